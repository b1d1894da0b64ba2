import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import * as ipc from "../src/ipc";
import type { LiveMessage, LiveReset, LiveRow, LiveTick } from "../src/ipc";
import { ROW_HEIGHT, mountConnections, type ConnectionsView } from "../src/views/connections";
import { rowWindow } from "../src/views/connections/table";
import { $, flush, text } from "./fixtures/dom";
import * as live from "./fixtures/live";
import { closedRow, row } from "./fixtures/live";
import { owner } from "./fixtures/usage";

vi.mock("../src/ipc");
const draw = vi.fn();
vi.mock("../src/graph", () => ({ createGraph: () => ({ draw, resize: () => {} }) }));

const rowIds = (): number[] =>
  Array.from(document.querySelectorAll<HTMLElement>("#conn-body tr.row")).map((tr) => Number(tr.dataset.id));

// The scene of these tests: two users' figures, the first reset a minute after the rows began.
const TOTALS = live.totals({
  bytesUp: 300,
  bytesDown: 5_000_000,
  activeSessions: 2,
  sessions: 9,
  since: Date.UTC(2026, 10, 25, 8, 0),
});

const reset = (sessions: LiveRow[], extra: Partial<LiveReset> = {}): LiveReset =>
  live.reset({
    at: 1_065_000,
    sessions,
    closedLimit: 100,
    totals: TOTALS,
    users: [
      { user: null, bytesUp: 2, bytesDown: 2000, sessions: 4, active: 1 },
      { user: "alice", bytesUp: 298, bytesDown: 4_998_000, sessions: 5, active: 1 },
    ],
    history: [[1_064_000, 100, 250_000]],
    ...extra,
  });

const tick = (extra: Partial<LiveTick> = {}): LiveTick => live.tick({ at: 1_066_000, totals: TOTALS, ...extra });

let send: (message: LiveMessage) => void = () => {};
const unwatch = vi.fn(() => Promise.resolve());
let view: ConnectionsView;

async function mount(): Promise<void> {
  const section = document.createElement("section");
  section.id = "view-connections";
  document.body.replaceChildren(section);
  view = mountConnections(section);
  view.show();
  await view.settled();
}

beforeEach(async () => {
  vi.resetAllMocks();
  unwatch.mockImplementation(() => Promise.resolve());
  vi.mocked(ipc.watchLive).mockImplementation((handler) => {
    send = handler;
    return Promise.resolve(unwatch);
  });
  await mount();
});

afterEach(() => {
  view.destroy();
  document.body.replaceChildren();
});

describe("the connections view", () => {
  it("shows a row per session with its figures", () => {
    send(reset([row(1, { route: "via socks5://hop:1080", rateDown: 250_000 }), row(2)]));
    view.render();
    expect(rowIds()).toEqual([2, 1]); // longest first: 2 started earlier
    const first = $("#conn-body tr.row[data-id='1']");
    const cells = Array.from((first as HTMLTableRowElement).cells).map((c) => c.textContent);
    expect(cells.slice(0, 10)).toEqual([
      "127.0.0.1:40001",
      "alice",
      "SOCKS5 CONNECT",
      "host1.example:443",
      "via socks5://hop:1080",
      "1 min 06 s",
      "1 B",
      "1.0 kB",
      "0 B/s",
      "250 kB/s",
    ]);
    expect(first.dataset.bytesDown).toBe("1000");
    expect($<HTMLTableRowElement>("#conn-body tr.row[data-id='2']").cells[1]?.textContent).toBe("(no user)");
    expect(text("#open-count")).toBe("2");
    expect($("#conn-empty").hidden).toBe(true);
  });

  it("shows a SOCKS4 USERID as unverified, apart from a checked user", () => {
    const claimed = { user: "bob", userVerified: false, protocol: "SOCKS4" };
    send(
      reset([row(1), row(2, claimed), row(4)], {
        closed: [closedRow(1, { id: 7, ...claimed }), closedRow(2, { id: 8, user: "alice", userVerified: true })],
      }),
    );
    view.render();
    const cell = (id: number) => $<HTMLTableRowElement>(`#conn-body tr.row[data-id='${id}']`).cells[1] as HTMLTableCellElement;
    expect(cell(2).textContent).toBe("bob (unverified)");
    expect(cell(2).title).toBe("SOCKS4 USERID, not checked: the name the client sent, with no password");
    expect(cell(2).classList.contains("unverified")).toBe(true);
    expect([cell(1).textContent, cell(1).title, cell(1).className]).toEqual(["alice", "", "col-user"]);
    expect([cell(4).textContent, cell(4).title]).toEqual(["(no user)", ""]);

    const closedUser = (id: number) => $<HTMLTableRowElement>(`#closed-body tr[data-id='${id}']`).cells[2] as HTMLTableCellElement;
    expect(closedUser(7).textContent).toBe("bob (unverified)");
    expect(closedUser(7).title).toContain("SOCKS4 USERID, not checked");
    expect(closedUser(7).classList.contains("unverified")).toBe(true);
    expect([closedUser(8).textContent, closedUser(8).title]).toEqual(["alice", ""]);

    // A pooled row refilled with a checked user loses the mark.
    send(tick({ removed: [2], added: [row(3)] }));
    view.render();
    for (const tr of document.querySelectorAll<HTMLTableRowElement>("#conn-body tr.row")) {
      expect(tr.cells[1]?.classList.contains("unverified"), tr.dataset.id).toBe(false);
      expect(tr.cells[1]?.title, tr.dataset.id).toBe("");
    }

    // The filter finds them by the word too.
    const filter = $<HTMLInputElement>("#conn-filter");
    filter.value = "unverified";
    filter.dispatchEvent(new Event("input"));
    expect(rowIds()).toEqual([]);
    expect(Array.from(document.querySelectorAll<HTMLElement>("#closed-body tr")).map((tr) => tr.dataset.id)).toEqual(["7"]);
  });

  it("marks the sessions a rate limit holds back, as ticks say, and filters on the word", () => {
    send(reset([row(1, { slowed: true }), row(2)]));
    view.render();
    const mark = (id: number): HTMLElement =>
      $(`#conn-body tr.row[data-id='${id}'] .slowed-mark`);
    expect(mark(1).hidden).toBe(false);
    expect(mark(1).textContent).toBe("Slowed");
    expect(mark(1).title).toMatch(/^A bandwidth limit .* held it back in the last second$/);
    expect($("#conn-body tr.row[data-id='1']").classList.contains("slowed")).toBe(true);
    expect(mark(2).hidden).toBe(true);
    send(tick({ changed: [[1, 1, 1000, 0, 0, false], [2, 2, 2000, 0, 0, true]] }));
    view.render();
    expect([mark(1).hidden, mark(2).hidden]).toEqual([true, false]);
    expect($("#conn-body tr.row[data-id='1']").classList.contains("slowed")).toBe(false);
    const filter = $<HTMLInputElement>("#conn-filter");
    filter.value = "slowed";
    filter.dispatchEvent(new Event("input"));
    expect(rowIds()).toEqual([2]);
  });

  it("shows each user's and device's use against its limits, redrawn when it changes", () => {
    const GB = 1_000_000_000;
    send(reset([]));
    view.render();
    expect($("#no-owners").hidden).toBe(false);
    expect($("#owner-use").hidden).toBe(true);
    send(
      reset([], {
        owners: [
          owner({ today: 1.2 * GB, thisMonth: 30 * GB, quota: { bytes: 5 * GB, period: "day", used: 1.2 * GB }, rate: 1_800_000, rateLimit: 2_000_000 }),
          owner({
            owner: "device kids tablet",
            kind: "device",
            name: "kids tablet",
            state: "outsideHours",
            refused: "outside its access hours (Mon-Fri 16:00-20:00)",
          }),
        ],
      }),
    );
    view.render();
    expect($("#no-owners").hidden).toBe(true);
    expect($("#owner-use").hidden).toBe(false);
    const cells = (key: string): string[] =>
      Array.from($(`#owner-use tr[data-owner="${key}"]`).children).map((c) => c.textContent ?? "");
    expect(cells("user alice")).toEqual(["alice", "1.2 GB", "30 GB", "1.2 GB of 5 GB today", "1.8 MB/s of 2 MB/s", "Active"]);
    expect(cells("device kids tablet")).toEqual(["kids tablet (device)", "0 B", "0 B", "No quota", "0 B/s", "Outside hours"]);
    const state = $('#owner-use tr[data-owner="device kids tablet"] td.state');
    expect(state.dataset.state).toBe("outsideHours");
    expect(state.title).toBe("The proxy refuses new connections: outside its access hours (Mon-Fri 16:00-20:00).");

    const drawn = $('#owner-use tr[data-owner="user alice"]');
    send(tick());
    view.render();
    expect($('#owner-use tr[data-owner="user alice"]'), "no owners in the tick: not redrawn").toBe(drawn);
    send(tick({ owners: [owner({ quota: { bytes: 2 * GB, period: "total", used: 2 * GB }, state: "overQuota", refused: "over its quota" })] }));
    view.render();
    expect(cells("user alice")[3]).toBe("2.0 GB of 2 GB in all");
    expect(cells("user alice")[5]).toBe("Over quota");
    expect(document.querySelector('#owner-use tr[data-owner="device kids tablet"]')).toBeNull();
  });

  it("updates rows, adds and removes them as ticks come", () => {
    send(reset([row(1), row(2)]));
    send(tick({ changed: [[1, 5, 123_456, 0, 9_000, false]], added: [row(3)], removed: [2] }));
    view.render();
    expect(rowIds().sort()).toEqual([1, 3]);
    const one = $<HTMLTableRowElement>("#conn-body tr.row[data-id='1']");
    expect(one.dataset.bytesDown).toBe("123456");
    expect(one.cells[7]?.textContent).toBe("123 kB");
    expect(one.cells[9]?.textContent).toBe("9.0 kB/s");
  });

  it("shows the totals, the current rate and per-user totals", () => {
    send(reset([row(1)]));
    view.render();
    expect(text("#total-down")).toBe("5.0 MB");
    expect($("#total-down").dataset.bytes).toBe("5000000");
    expect(text("#total-up")).toBe("300 B");
    expect(text("#total-sessions")).toBe("9");
    expect(text("#total-open")).toBe("2");
    expect(text("#rate-down")).toBe("250 kB/s");
    expect(text("#rate-up")).toBe("100 B/s");
    const users = Array.from(document.querySelectorAll("#user-totals tbody tr")).map((tr) =>
      Array.from(tr.children).map((c) => c.textContent),
    );
    expect(users).toEqual([
      ["(no user)", "1", "4", "2 B", "2.0 kB"],
      ["alice", "1", "5", "298 B", "5.0 MB"],
    ]);
    expect(draw).toHaveBeenCalled();
  });

  it("sorts by a column and says so to assistive technology", () => {
    send(reset([row(1, { bytesDown: 10 }), row(2, { bytesDown: 30 }), row(3, { bytesDown: 20 })]));
    const header = $("#conn-table button.sort[data-key='bytesDown']");
    header.click();
    expect(rowIds()).toEqual([2, 3, 1]);
    expect(header.parentElement?.getAttribute("aria-sort")).toBe("descending");
    header.click();
    expect(rowIds()).toEqual([1, 3, 2]);
    expect(header.parentElement?.getAttribute("aria-sort")).toBe("ascending");
    $("#conn-table button.sort[data-key='target']").click();
    expect(rowIds()).toEqual([1, 2, 3]);
    expect(header.parentElement?.getAttribute("aria-sort")).toBe("none");
  });

  it("re-sorts on a tick only when the figures it sorts by change", () => {
    send(reset([row(1, { bytesDown: 10 }), row(2, { bytesDown: 30 }), row(3, { bytesDown: 20 })]));
    $("#conn-table button.sort[data-key='bytesDown']").click();
    expect(rowIds()).toEqual([2, 3, 1]);
    send(tick({ changed: [[1, 1, 50, 0, 0, false]] }));
    view.render();
    expect(rowIds()).toEqual([1, 2, 3]);
    // By target, a tick changes the figures shown but not the order.
    $("#conn-table button.sort[data-key='target']").click();
    expect(rowIds()).toEqual([1, 2, 3]);
    send(tick({ changed: [[3, 3, 99_000, 0, 0, false]] }));
    view.render();
    expect(rowIds()).toEqual([1, 2, 3]);
    expect($<HTMLTableRowElement>("#conn-body tr.row[data-id='3']").cells[7]?.textContent).toBe("99 kB");
  });

  it("redraws only what a control changes", () => {
    send(reset([row(1), row(2)]));
    view.render();
    draw.mockClear();
    $("#conn-table button.sort[data-key='target']").click();
    expect(rowIds()).toEqual([1, 2]);
    const filter = $<HTMLInputElement>("#conn-filter");
    filter.value = "host2";
    filter.dispatchEvent(new Event("input"));
    expect(rowIds()).toEqual([2]);
    expect(draw).not.toHaveBeenCalled();
    // A tick not drawn yet: the range redraws the graph, not the table.
    send(tick({ changed: [[2, 2, 7_000_000, 0, 0, false]] }));
    $(".range button[data-minutes='1']").click();
    expect(draw).toHaveBeenCalledTimes(1);
    expect($<HTMLTableRowElement>("#conn-body tr.row[data-id='2']").cells[7]?.textContent).toBe("2.0 kB");
  });

  it("filters rows and the closed list by text", () => {
    send(
      reset([row(1), row(2), row(3)], {
        closed: [
          closedRow(1, {
            id: 9,
            client: "10.0.0.2:5",
            command: "UDP",
            target: "dns.example:53",
            endedAt: 5000,
            durationMs: 5000,
            bytesUp: 40,
            bytesDown: 80,
          }),
        ],
      }),
    );
    const filter = $<HTMLInputElement>("#conn-filter");
    filter.value = "host2";
    filter.dispatchEvent(new Event("input"));
    expect(rowIds()).toEqual([2]);
    expect(text("#open-count")).toBe("1 of 3");
    expect(document.querySelectorAll("#closed-body tr")).toHaveLength(0);
    expect(text("#closed-empty")).toBe("No closed connection matches the filter.");
    filter.value = "dns";
    filter.dispatchEvent(new Event("input"));
    expect(rowIds()).toEqual([]);
    expect(text("#conn-empty")).toBe("No open connection matches the filter.");
    const closedCells = Array.from(document.querySelectorAll("#closed-body tr td")).map((c) => c.textContent);
    expect(closedCells.slice(1)).toEqual(["10.0.0.2:5", "(no user)", "SOCKS5 UDP", "dns.example:53", "direct", "5 s", "40 B", "80 B"]);
  });

  it("names each session's protocol with its command, and filters on it", () => {
    send(reset([row(1), row(2, { protocol: "HTTP", command: "FORWARD", user: "alice" })]));
    view.render();
    const command = (id: number) => $<HTMLTableRowElement>(`#conn-body tr.row[data-id='${id}']`).cells[2]?.textContent;
    expect([command(1), command(2)]).toEqual(["SOCKS5 CONNECT", "HTTP FORWARD"]);
    const filter = $<HTMLInputElement>("#conn-filter");
    filter.value = "http";
    filter.dispatchEvent(new Event("input"));
    expect(rowIds()).toEqual([2]);
  });

  it("closes one session from its row", async () => {
    vi.mocked(ipc.closeSession).mockResolvedValue(true);
    send(reset([row(1), row(2)]));
    view.render();
    const button = $<HTMLButtonElement>("#conn-body tr.row[data-id='2'] button.close-one");
    expect(button.getAttribute("aria-label")).toBe("Close the connection to host2.example:443");
    button.click();
    expect(ipc.closeSession).toHaveBeenCalledWith(2);
    expect(button.disabled).toBe(true);
    await flush();
    expect(text("#conn-notice")).toBe("Connection closed.");
  });

  it("says so when the session had already ended, or the close failed", async () => {
    send(reset([row(1)]));
    view.render();
    vi.mocked(ipc.closeSession).mockResolvedValue(false);
    $<HTMLButtonElement>("#conn-body tr.row button.close-one").click();
    await flush();
    expect(text("#conn-notice")).toBe("That connection had already ended.");
    send(reset([row(4)]));
    view.render();
    vi.mocked(ipc.closeSession).mockRejectedValue({ message: "no such session" });
    const button = $<HTMLButtonElement>("#conn-body tr.row button.close-one");
    button.click();
    await flush();
    expect(text("#conn-notice")).toContain("no such session");
    expect(button.disabled).toBe(false);
  });

  it("closes all sessions after asking", async () => {
    vi.mocked(ipc.closeAllSessions).mockResolvedValue(2);
    send(reset([row(1), row(2)]));
    view.render();
    const closeAll = $<HTMLButtonElement>("#close-all");
    expect(closeAll.disabled).toBe(false);
    closeAll.click();
    expect(text("#confirm-close-all-text")).toContain("2 open connections will end");
    $("#confirm-close-all-no").click();
    await flush();
    expect(ipc.closeAllSessions).not.toHaveBeenCalled();
    closeAll.click();
    $("#confirm-close-all-yes").click();
    await flush();
    expect(ipc.closeAllSessions).toHaveBeenCalledTimes(1);
    expect(text("#conn-notice")).toBe("Closed 2 connections.");
  });

  it("draws only the rows in sight, however many sessions there are", () => {
    const many = Array.from({ length: 2000 }, (_, i) => row(i + 1));
    send(reset(many));
    view.render();
    const drawn = rowIds().length;
    expect(drawn).toBeGreaterThan(10);
    expect(drawn).toBeLessThan(60);
    expect(text("#open-count")).toBe("2000");
    // The spacers stand for the rows not drawn, so the scroll bar is true.
    const spacers = Array.from(document.querySelectorAll<HTMLElement>("#conn-body tr.spacer"));
    const spacerRows = spacers.reduce((sum, s) => sum + parseInt(s.style.height || "0", 10), 0) / ROW_HEIGHT;
    expect(spacerRows + drawn).toBe(2000);
    expect($("#conn-table").getAttribute("aria-rowcount")).toBe("2001");
    expect($("#conn-body tr.row").getAttribute("aria-rowindex")).toBe("2");
  });

  it("keeps a recently closed list, newest first", () => {
    send(reset([]));
    const closed = (seq: number) => closedRow(seq, { user: "alice", target: `t${seq}:80`, bytesUp: seq, bytesDown: seq * 10 });
    send(tick({ closed: [closed(1), closed(2)] }));
    view.render();
    const ids = Array.from(document.querySelectorAll<HTMLElement>("#closed-body tr")).map((tr) => tr.dataset.id);
    expect(ids).toEqual(["2", "1"]);
    expect($("#closed-body tr").dataset.bytesDown).toBe("20");
    expect($("#closed-empty").hidden).toBe(true);
  });

  it("stops watching when hidden, and again when the page is hidden", async () => {
    expect(ipc.watchLive).toHaveBeenCalledTimes(1);
    view.hide();
    await flush();
    expect(unwatch).toHaveBeenCalledTimes(1);
    view.show();
    await view.settled();
    expect(ipc.watchLive).toHaveBeenCalledTimes(2);

    const hidden = vi.spyOn(document, "hidden", "get").mockReturnValue(true);
    document.dispatchEvent(new Event("visibilitychange"));
    await flush();
    expect(unwatch).toHaveBeenCalledTimes(2);
    hidden.mockReturnValue(false);
    document.dispatchEvent(new Event("visibilitychange"));
    await view.settled();
    expect(ipc.watchLive).toHaveBeenCalledTimes(3);
    hidden.mockRestore();
  });

  it("stops watching and lets go of the page's events when destroyed", async () => {
    view.destroy();
    const onDocument = vi.spyOn(document, "addEventListener");
    const onWindow = vi.spyOn(window, "addEventListener");
    await mount();
    const outside = [...onDocument.mock.calls, ...onWindow.mock.calls];
    onDocument.mockRestore();
    onWindow.mockRestore();
    expect(outside.map((call) => call[0]).sort()).toEqual(["resize", "visibilitychange"]);
    const signals = outside.map((call) => (call[2] as AddEventListenerOptions | undefined)?.signal);
    expect(signals.every((signal) => signal?.aborted === false)).toBe(true);
    view.destroy();
    await flush();
    expect(unwatch).toHaveBeenCalledTimes(2);
    expect(signals.every((signal) => signal?.aborted === true)).toBe(true);
  });

  it("says when the live view cannot start", async () => {
    view.hide();
    vi.mocked(ipc.watchLive).mockRejectedValue({ message: "the app is shutting down" });
    view.show();
    await view.settled();
    expect(text("#conn-notice")).toContain("the app is shutting down");
  });

  it("switches the graph's range", () => {
    send(reset([]));
    view.render();
    expect($(".range button[data-minutes='5']").getAttribute("aria-pressed")).toBe("true");
    $(".range button[data-minutes='15']").click();
    expect($(".range button[data-minutes='15']").getAttribute("aria-pressed")).toBe("true");
    expect($(".range button[data-minutes='5']").getAttribute("aria-pressed")).toBe("false");
    expect(draw).toHaveBeenLastCalledWith(expect.any(Array), 15, 1_065_000);
    expect($("#graph").getAttribute("aria-label")).toContain("last 15 minutes");
  });

  it("a view hidden and shown again while its watch is on the way ends with one watch", async () => {
    view.hide();
    await flush();
    vi.mocked(ipc.watchLive).mockClear();
    unwatch.mockClear();
    let answer: (stop: () => Promise<void>) => void = () => {};
    const stale = vi.fn(() => Promise.resolve());
    vi.mocked(ipc.watchLive).mockImplementationOnce(
      () => new Promise((resolve) => (answer = resolve)),
    );
    view.show();
    view.hide();
    view.show(); // still waiting for the first answer: no second request yet
    expect(ipc.watchLive).toHaveBeenCalledTimes(1);
    answer(stale);
    await flush();
    await flush();
    expect(stale).toHaveBeenCalledTimes(1);
    expect(ipc.watchLive).toHaveBeenCalledTimes(2);
    view.hide();
    await flush();
    expect(unwatch).toHaveBeenCalledTimes(1);
  });
});

describe("the rows in sight", () => {
  it("are those in the box and a few either side", () => {
    // Before layout the box has no height: a screenful is assumed.
    expect(rowWindow(0, 0, 2000)).toEqual({ first: 0, last: 40 });
    expect(rowWindow(0, 300, 2000)).toEqual({ first: 0, last: 26 });
    expect(rowWindow(100 * ROW_HEIGHT, 300, 2000)).toEqual({ first: 92, last: 118 });
    expect(rowWindow(100 * ROW_HEIGHT + 10, 301, 2000)).toEqual({ first: 92, last: 119 });
    expect(rowWindow(0, 300, 5)).toEqual({ first: 0, last: 5 });
  });
});
