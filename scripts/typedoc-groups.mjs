// TypeDoc plugin (typedoc.json "plugin"): an entry point's API reference is
// grouped by the sections of its source, so the reference and the barrel
// cannot disagree and no declaration has to carry a @group tag. A section
// starts at a line `// --- Name ---`; the `//` lines right after it become
// the group's description; it holds every name exported until the next one.
// An entry without such lines keeps TypeDoc's grouping by kind. A name
// exported outside any section is an error, so a new export has to be placed.
import ts from 'typescript';
import { Converter, ReflectionGroup, ReflectionKind } from 'typedoc';

const SECTION = /^\/\/ --- (.+) ---$/;

/** The names a top-level statement exports (none for anything else). */
function exportedNames(st, checker) {
  if (ts.isExportDeclaration(st)) {
    if (!st.exportClause) {
      const mod = checker.getSymbolAtLocation(st.moduleSpecifier);
      return mod ? checker.getExportsOfModule(mod).map((s) => s.name) : [];
    }
    if (ts.isNamespaceExport(st.exportClause)) return [st.exportClause.name.text];
    return st.exportClause.elements.map((e) => e.name.text);
  }
  if (!ts.getModifiers?.(st)?.some((m) => m.kind === ts.SyntaxKind.ExportKeyword)) return [];
  if (ts.isVariableStatement(st)) return st.declarationList.declarations.map((d) => d.name.getText());
  return st.name ? [st.name.text] : [];
}

/** The `// --- Name ---` sections of a source file, in order, with their descriptions and names. */
function sectionsOf(sf, checker) {
  const sections = [];
  let current = null;
  for (const st of sf.statements) {
    for (const range of ts.getLeadingCommentRanges(sf.text, st.pos) ?? []) {
      const text = sf.text.slice(range.pos, range.end);
      const m = SECTION.exec(text);
      if (m) sections.push((current = { title: m[1], description: [], names: new Set() }));
      else if (current && current.names.size === 0 && text.startsWith('//')) current.description.push(text.slice(2).trim());
    }
    for (const name of exportedNames(st, checker)) {
      if (current) current.names.add(name);
    }
  }
  return sections;
}

export function load(app) {
  // after TypeDoc's own grouping (priority -100) and before categories (-200)
  app.converter.on(
    Converter.EVENT_RESOLVE_END,
    (context) => {
      const program = context.programs[0];
      const checker = program.getTypeChecker();
      for (const mod of context.project.getChildrenByKind(ReflectionKind.Module)) {
        const fileName = mod.sources?.[0]?.fullFileName;
        const sf = fileName && program.getSourceFile(fileName);
        if (!sf) continue;
        const sections = sectionsOf(sf, checker);
        if (sections.length === 0) continue;
        const groups = sections.map((s) => {
          const g = new ReflectionGroup(s.title, mod);
          if (s.description.length) g.description = [{ kind: 'text', text: s.description.join(' ') }];
          return g;
        });
        for (const child of mod.children ?? []) {
          const i = sections.findIndex((s) => s.names.has(child.name));
          if (i < 0) app.logger.error(`${mod.name}.${child.name} is exported outside the "// --- Name ---" sections of ${fileName}`);
          else groups[i].children.push(child);
        }
        mod.groups = groups.filter((g) => g.children.length > 0);
      }
    },
    -150,
  );
}
