/** The SVG line chart behind `recur forecast --plot` and the examples' plots. */
import { it } from 'node:test';
import assert from 'node:assert/strict';
import { lineChart } from '../src/cli/svg.js';

const polylines = (svg: string): string[][] => [...svg.matchAll(/<polyline [^>]*points="([^"]*)"/g)].map((m) => m[1].split(' ').filter((p) => p !== ''));
const texts = (svg: string): string[] => [...svg.matchAll(/<text [^>]*>([^<]*)<\/text>/g)].map((m) => m[1]);

it('lineChart: a linear axis labels its min and max (with 5% padding), one polyline and one legend entry per series', () => {
  const svg = lineChart(
    [
      { label: 'a', x: [0, 1, 2], y: [0, 10, 20], color: 'red' },
      { label: 'b', x: [0, 2], y: [5, 5], color: 'blue', dashed: true },
    ],
    { title: 'T' },
  );
  assert.equal(polylines(svg).length, 2);
  assert.deepEqual(
    polylines(svg).map((p) => p.length),
    [3, 2],
  );
  for (const t of ['T', 'a', 'b', '21', '-1', '0', '2']) assert.ok(texts(svg).includes(t), `missing text ${t}: ${texts(svg).join('|')}`);
});

it('lineChart with logY: a labelled line at each power of ten in range; non-positive and non-finite values are left out, not drawn at the bottom', () => {
  const y = [1, 0.1, 0.01, 0.001, 0, -1, NaN, 1e-4];
  const svg = lineChart([{ label: 'norm', x: y.map((_, i) => i), y, color: 'red' }], { title: 'T', logY: true });
  const [pts] = polylines(svg);
  assert.equal(pts.length, 5, 'the five positive values');
  const labels = texts(svg).filter((t) => t.startsWith('1e'));
  assert.deepEqual(labels, ['1e-4', '1e-3', '1e-2', '1e-1', '1e0']);
  // the line falls a decade per step: equal pixel steps for the four equal ratios
  const ys = pts.map((p) => Number(p.split(',')[1]));
  const steps = ys.slice(1, 4).map((v, i) => v - ys[i]);
  for (const s of steps) assert.ok(Math.abs(s - steps[0]) < 0.2 && s > 0, `steps ${steps}`);
});

it('lineChart with logY over many decades labels about ten of them, at multiples of a common step', () => {
  const y = Array.from({ length: 41 }, (_, i) => 10 ** -i);
  const svg = lineChart([{ label: 'n', x: y.map((_, i) => i), y, color: 'red' }], { title: 'T', logY: true });
  const labels = texts(svg).filter((t) => t.startsWith('1e'));
  assert.ok(labels.length >= 8 && labels.length <= 11, labels.join(' '));
  assert.ok(
    labels.every((l) => Number(l.slice(2)) % 5 === 0),
    labels.join(' '),
  );
});

it('lineChart: a series with legend false is drawn but not listed; long labels push the next legend entry along', () => {
  const svg = lineChart(
    [
      { label: 'a rather long label for the first series', x: [0, 1], y: [0, 1], color: 'red' },
      { label: 'hidden companion', x: [0, 1], y: [1, 0], color: 'red', dashed: true, legend: false },
      { label: 'c', x: [0, 1], y: [1, 1], color: 'blue' },
    ],
    { title: 'T', xLabel: 'time', yLabel: 'value' },
  );
  assert.equal(polylines(svg).length, 3);
  assert.ok(!texts(svg).includes('hidden companion'));
  assert.ok(svg.includes('<title>hidden companion</title>'), 'the line still names itself on hover');
  for (const t of ['time', 'value']) assert.ok(texts(svg).includes(t), t);
  const x = (label: string): number => Number(new RegExp(`<text x="([0-9.]+)"[^>]*>${label}</text>`).exec(svg)![1]);
  assert.ok(x('c') - x('a rather long label for the first series') > 7 * 'a rather long label for the first series'.length, 'no overlap');
});

it('lineChart: legend labels that would run past the right edge wrap onto a new row, and the plot moves down to make room', () => {
  const label = (i: number): string => `series ${i}: a label long enough that three of them do not fit on one row`;
  const series = [0, 1, 2].map((i) => ({ label: label(i), x: [0, 1], y: [i, i + 1], color: 'red' }));
  const svg = lineChart(series, { title: 'T', width: 900 });
  const at = (i: number): { x: number; y: number } => {
    const m = new RegExp(`<text x="([0-9.]+)" y="([0-9.]+)">${label(i)}</text>`).exec(svg)!;
    return { x: Number(m[1]), y: Number(m[2]) };
  };
  for (const i of [0, 1, 2]) assert.ok(at(i).x + 7 * label(i).length <= 900, `label ${i} ends inside the chart`);
  assert.ok(at(1).y > at(0).y, 'the second label starts a new row');
  // the plot's top edge (the y axis) starts below the last legend row
  const axisTop = Number(/<line x1="70" y1="([0-9.]+)" x2="70"/.exec(svg)![1]);
  assert.ok(axisTop > Math.max(at(0).y, at(1).y, at(2).y), `axis top ${axisTop}`);
  // one row when they fit, as before
  const short = lineChart([{ label: 'a', x: [0, 1], y: [0, 1], color: 'red' }], { title: 'T' });
  assert.match(short, /<line x1="70" y1="40" x2="70"/);
});
