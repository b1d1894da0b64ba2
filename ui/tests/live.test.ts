import { describe, expect, it } from "vitest";
import type { LiveRow } from "../src/ipc";
import {
  HISTORY_LIMIT,
  LiveModel,
  SortedRows,
  matcher,
  nextSort,
  pointsWithin,
  sortRows,
  userLabel,
  userTitle,
} from "../src/live";
import { closedRow, reset, row, tick } from "./fixtures/live";
import { owner } from "./fixtures/usage";

describe("the live model", () => {
  it("starts from a reset and applies what changed", () => {
    const model = new LiveModel();
    model.apply(reset({ sessions: [row(1), row(2)], history: [[9_000, 1, 2]] }));
    expect([...model.rows.keys()]).toEqual([1, 2]);
    const before = model.membership;

    model.apply(tick({ changed: [[1, 10, 2000, 5, 1000, false]] }));
    expect(model.rows.get(1)).toMatchObject({ bytesUp: 10, bytesDown: 2000, rateUp: 5, rateDown: 1000 });
    expect(model.membership).toBe(before);
    expect(model.history).toEqual([
      [9_000, 1, 2],
      [11_000, 0, 0],
    ]);

    model.apply(tick({ added: [row(3)], removed: [2] }));
    expect([...model.rows.keys()].sort()).toEqual([1, 3]);
    expect(model.membership).toBe(before + 1);
  });

  it("counts the ticks that change figures", () => {
    const model = new LiveModel();
    model.apply(reset({ sessions: [row(1)] }));
    const figures = model.figures;
    model.apply(tick());
    expect(model.figures).toBe(figures);
    model.apply(tick({ changed: [[1, 2, 3, 4, 5, false]] }));
    expect(model.figures).toBe(figures + 1);
  });

  it("ignores a change for a row it does not know", () => {
    const model = new LiveModel();
    model.apply(reset({ sessions: [row(1)] }));
    model.apply(tick({ changed: [[99, 1, 1, 1, 1, false]] }));
    expect([...model.rows.keys()]).toEqual([1]);
  });

  it("a reset replaces everything", () => {
    const model = new LiveModel();
    model.apply(reset({ sessions: [row(1), row(2)] }));
    model.apply(reset({ sessions: [row(7)] }));
    expect([...model.rows.keys()]).toEqual([7]);
  });

  it("keeps the newest closed sessions first, up to the limit", () => {
    const model = new LiveModel();
    model.apply(reset({ closed: [closedRow(1, { id: 11 }), closedRow(2, { id: 12 })] }));
    expect(model.closed.map((c) => c.id)).toEqual([12, 11]);
    const version = model.closedVersion;
    model.apply(tick({ closed: [closedRow(3, { id: 13 }), closedRow(4, { id: 14 })] }));
    expect(model.closed.map((c) => c.id)).toEqual([14, 13, 12]);
    expect(model.closedVersion).toBe(version + 1);
    model.apply(tick());
    expect(model.closedVersion).toBe(version + 1);
  });

  it("bounds the history to fifteen minutes of points", () => {
    const model = new LiveModel();
    model.apply(reset());
    for (let i = 0; i < HISTORY_LIMIT + 10; i++) model.apply(tick({ point: [i, i, i] }));
    expect(model.history.length).toBe(HISTORY_LIMIT);
    expect(model.history[0]?.[0]).toBe(10);
    expect(model.rate()).toEqual({ up: HISTORY_LIMIT + 9, down: HISTORY_LIMIT + 9 });
  });

  it("takes each session's slowed mark from its change, and owners only when they are sent", () => {
    const model = new LiveModel();
    model.apply(reset({ sessions: [row(1)] }));
    const version = model.ownersVersion;
    model.apply(tick({ changed: [[1, 1, 1000, 0, 0, true]] }));
    expect(model.rows.get(1)?.slowed).toBe(true);
    expect(model.ownersVersion).toBe(version);
    model.apply(tick({ owners: [owner({ today: 5 })] }));
    expect(model.owners[0]?.today).toBe(5);
    expect(model.ownersVersion).toBe(version + 1);
    model.apply(reset({ owners: [] }));
    expect(model.owners).toEqual([]);
  });

  it("takes users only when they are sent", () => {
    const model = new LiveModel();
    const alice = { user: "alice", bytesUp: 1, bytesDown: 2, sessions: 1, active: 1 };
    model.apply(reset({ users: [alice] }));
    model.apply(tick({ users: null }));
    expect(model.users).toEqual([alice]);
    model.apply(tick({ users: [] }));
    expect(model.users).toEqual([]);
  });
});

describe("sorting and filtering", () => {
  const rows = (): LiveRow[] => [
    // Started in id order, so row 1 has lasted longest.
    row(1, { target: "b.example:443", bytesDown: 50, user: null, startedAt: 1_001_000 }),
    row(2, { target: "a.example:80", bytesDown: 900, route: "via socks5://hop:1080", user: "alice", startedAt: 1_002_000 }),
    row(3, { target: "c.example:22", bytesDown: 50, client: "192.168.1.7:5000", user: "alice", startedAt: 1_003_000 }),
  ];

  it("sorts by any column, ties by id", () => {
    expect(sortRows(rows(), { key: "target", direction: "ascending" }).map((r) => r.id)).toEqual([2, 1, 3]);
    expect(sortRows(rows(), { key: "bytesDown", direction: "descending" }).map((r) => r.id)).toEqual([2, 1, 3]);
    expect(sortRows(rows(), { key: "bytesDown", direction: "ascending" }).map((r) => r.id)).toEqual([1, 3, 2]);
    // Row 1 started first, so it has lasted longest.
    expect(sortRows(rows(), { key: "duration", direction: "descending" }).map((r) => r.id)).toEqual([1, 2, 3]);
    expect(sortRows(rows(), { key: "user", direction: "ascending" }).map((r) => r.id)).toEqual([1, 2, 3]);
  });

  it("sorts addresses and ports as numbers", () => {
    const ports = [row(1, { target: "h:1000" }), row(2, { target: "h:200" })];
    expect(sortRows(ports, { key: "target", direction: "ascending" }).map((r) => r.id)).toEqual([2, 1]);
  });

  it("filters on every word, in client, user, command, target and route", () => {
    const model = new LiveModel();
    model.apply(reset({ sessions: rows() }));
    const ids = (filter: string): number[] => model.view({ key: "duration", direction: "descending" }, filter).map((r) => r.id);
    expect(ids("")).toEqual([1, 2, 3]);
    expect(ids("A.EXAMPLE")).toEqual([2]);
    expect(ids("hop")).toEqual([2]);
    expect(ids("192.168")).toEqual([3]);
    expect(ids("alice c.example")).toEqual([3]);
    expect(ids("connect")).toEqual([1, 2, 3]);
    expect(ids("nothing-like-this")).toEqual([]);
    expect(matcher("gone5")(closedRow(1, { id: 5 }))).toBe(true);
  });
});

describe("user labels", () => {
  it("tell a checked user from a SOCKS4 USERID and from no user", () => {
    expect(userLabel("alice", true)).toBe("alice");
    expect(userLabel("bob", false)).toBe("bob (unverified)");
    expect(userLabel(null, false)).toBe("(no user)");
    expect(userTitle({ user: "alice", userVerified: true })).toBe("");
    expect(userTitle({ user: "bob", userVerified: false })).toContain("SOCKS4 USERID, not checked");
    expect(userTitle({ user: null, userVerified: false })).toBe("");
  });
});

describe("the open rows in sight order", () => {
  it("turns the sorted column around, and starts another by its kind", () => {
    expect(nextSort({ key: "target", direction: "ascending" }, "target", false)).toEqual({ key: "target", direction: "descending" });
    expect(nextSort({ key: "target", direction: "descending" }, "target", false)).toEqual({ key: "target", direction: "ascending" });
    expect(nextSort({ key: "target", direction: "ascending" }, "bytesDown", true)).toEqual({ key: "bytesDown", direction: "descending" });
    expect(nextSort({ key: "bytesDown", direction: "descending" }, "client", false)).toEqual({ key: "client", direction: "ascending" });
  });

  it("sorts again only when membership, the sort, the filter or the figures sorted by change", () => {
    const model = new LiveModel();
    model.apply(reset({ sessions: [row(1, { bytesDown: 10 }), row(2, { bytesDown: 30 })] }));
    const sorted = new SortedRows(model);
    const byTarget = { key: "target", direction: "ascending" } as const;
    const byBytes = { key: "bytesDown", direction: "descending" } as const;
    const first = sorted.get(byTarget, "");
    expect(first.map((r) => r.id)).toEqual([1, 2]);
    // Figures change: the order by target cannot, so the same list comes back.
    model.apply(tick({ changed: [[1, 1, 99, 0, 0, false]] }));
    expect(sorted.get(byTarget, "")).toBe(first);
    expect(sorted.get(byBytes, "").map((r) => r.id)).toEqual([1, 2]);
    model.apply(tick({ changed: [[2, 2, 500, 0, 0, false]] }));
    expect(sorted.get(byBytes, "").map((r) => r.id)).toEqual([2, 1]);
    expect(sorted.get(byBytes, "host1").map((r) => r.id)).toEqual([1]);
    model.apply(tick({ added: [row(3, { bytesDown: 1000 })] }));
    expect(sorted.get(byBytes, "").map((r) => r.id)).toEqual([3, 2, 1]);
  });
});

describe("the graph's range", () => {
  it("keeps the points of the last minutes", () => {
    const history: [number, number, number][] = [
      [0, 1, 1],
      [30_000, 2, 2],
      [60_000, 3, 3],
      [90_000, 4, 4],
    ];
    expect(pointsWithin(history, 1, 90_000).map((p) => p[0])).toEqual([30_000, 60_000, 90_000]);
    expect(pointsWithin(history, 5, 90_000)).toHaveLength(4);
    expect(pointsWithin([], 5, 90_000)).toEqual([]);
  });
});
