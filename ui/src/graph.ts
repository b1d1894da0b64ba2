// The bandwidth graph: total upload and download rate over time, drawn by
// uPlot on one canvas. The view hands it the points of the chosen range;
// it draws only when given new data, and never while hidden.

import uPlot from "uplot";
import "uplot/dist/uPlot.min.css";
import type { Point } from "./ipc";
import { formatAxisTime, formatRate } from "./format";
import { t } from "./i18n";

export interface Graph {
  /** Draws these points (ms since the epoch, up, down) over the last `minutes`. */
  draw(points: Point[], minutes: number, now: number): void;
  /** Follows the container's width. */
  resize(): void;
}

const HEIGHT = 180;

function cssVar(name: string, fallback: string): string {
  const value = getComputedStyle(document.documentElement).getPropertyValue(name).trim();
  return value || fallback;
}

/** A graph in container, `height` pixels high (the Status page's is small). */
export function createGraph(container: HTMLElement, height = HEIGHT): Graph {
  const width = (): number => Math.max(280, container.clientWidth || 600);
  const text = cssVar("--muted", "#4b5058");
  const grid = cssVar("--border", "#8a9099") + "55";
  const axis = { stroke: text, grid: { stroke: grid, width: 1 }, ticks: { stroke: grid, width: 1 } };
  // Times of day as the page's locale writes them (uPlot's own are English
  // and 12-hour): to the second when the ticks are less than a minute apart.
  const times = (_u: uPlot, ticks: number[], _axis: number, _space: number, increment: number): string[] =>
    ticks.map((s) => formatAxisTime(s * 1000, increment < 60));
  const plot = new uPlot(
    {
      width: width(),
      height,
      legend: { show: true, live: false },
      cursor: { drag: { x: false, y: false }, points: { show: false } },
      scales: { x: { time: true }, y: { range: (_u, _min, max) => [0, Math.max(1000, max * 1.1)] } },
      axes: [{ ...axis, values: times }, { ...axis, size: 70, values: (_u, ticks) => ticks.map((v) => formatRate(v)) }],
      series: [
        { label: t("graph.time") },
        { label: t("graph.download"), stroke: "#1a73e8", width: 2, value: (_u, v) => formatRate(v ?? 0) },
        { label: t("graph.upload"), stroke: "#e8710a", width: 2, value: (_u, v) => formatRate(v ?? 0) },
      ],
    },
    [[], [], []],
    container,
  );
  return {
    draw(points, minutes, now) {
      const xs: number[] = [];
      const down: number[] = [];
      const up: number[] = [];
      for (const [t, u, d] of points) {
        xs.push(t / 1000);
        up.push(u);
        down.push(d);
      }
      plot.batch(() => {
        plot.setData([xs, down, up], false);
        plot.setScale("x", { min: now / 1000 - minutes * 60, max: now / 1000 });
      });
    },
    resize() {
      const w = width();
      if (w !== plot.width) plot.setSize({ width: w, height });
    },
  };
}
