import { beforeEach, describe, expect, it, vi } from "vitest";
import * as ipc from "../src/ipc";
import type { Mapping, MappingRow, SaveRefused } from "../src/ipc";
import { commandLabel } from "../src/live";
import { mountMappings } from "../src/views/mappings";
import { REFRESH_EVERY } from "../src/views/follow";
import { fieldIdOf, fieldProblem, mappingFrom, stateText, type MappingValues } from "../src/views/mappings/model";
import { validateListenAddress, validateMappingName, validateMappingTarget } from "../src/validate";
import { $ as el, flush, text } from "./fixtures/dom";

vi.mock("../src/ipc");

function mapping(overrides: Partial<Mapping> = {}): Mapping {
  const target = "build.corp.example:22";
  return { name: "ssh", listen: "127.0.0.1:2222", target, protocol: "tcp", route: "rules", enabled: true, ...overrides };
}

/** A mapping's row, listening on its address unless overridden. */
function row(overrides: Partial<MappingRow> = {}, m: Partial<Mapping> = {}): MappingRow {
  const entry = mapping(m);
  return {
    name: entry.name ?? `${entry.listen}/${entry.protocol}`,
    mapping: entry,
    state: { kind: "listening" },
    tcp: entry.listen,
    udp: null,
    lastError: null,
    ...overrides,
  };
}

const SSH = row();
const DNS = row(
  { state: { kind: "stopped" }, tcp: null },
  { name: "dns", listen: "127.0.0.1:5353", target: "127.0.0.1:53", protocol: "udp", enabled: false },
);

function type(selector: string, value: string): void {
  const input = el<HTMLInputElement>(selector);
  input.value = value;
  input.dispatchEvent(new Event("input", { bubbles: true }));
}

async function mount(rows: MappingRow[] = [SSH, DNS]): Promise<void> {
  vi.mocked(ipc.listMappings).mockResolvedValue(structuredClone(rows));
  const section = document.createElement("section");
  document.body.replaceChildren(section);
  await mountMappings(section).ready;
}

const values = (v: Partial<MappingValues> = {}): MappingValues => ({
  name: "",
  listen: "127.0.0.1:2223",
  target: "a.example:22",
  protocol: "tcp",
  route: "rules",
  ...v,
});

beforeEach(() => {
  vi.resetAllMocks();
  vi.useRealTimers();
});

describe("mapping checks", () => {
  it("reads listening addresses as the Rust side does", () => {
    expect(validateListenAddress(" 0.0.0.0:2222 ")).toEqual({ ok: true, value: { ip: "0.0.0.0", port: 2222, v6: false } });
    expect(validateListenAddress("[::1]:53")).toMatchObject({ ok: true, value: { ip: "::1", v6: true } });
    for (const bad of ["2222", "localhost:22", "::1:53", "1.2.3.4:", "1.2.3.4:70000", "[::1]"]) {
      const error = `"${bad}" is not a listening address: enter an address and a port, such as 127.0.0.1:2222.`;
      expect(validateListenAddress(bad), bad).toEqual({ ok: false, error });
    }
    expect(validateListenAddress("127.0.0.1:0")).toEqual({
      ok: false,
      error: "Enter a port between 1 and 65535 after the address, such as 127.0.0.1:2222.",
    });
  });

  it("needs a destination with a port", () => {
    expect(validateMappingTarget(" build.corp.example:22 ")).toEqual({ ok: true, value: "build.corp.example:22" });
    expect(validateMappingTarget("[2001:db8::1]:53")).toMatchObject({ ok: true });
    expect(validateMappingTarget("build.corp.example")).toEqual({
      ok: false,
      error: '"build.corp.example" is not a destination: enter a host and a port, such as build.corp.example:22.',
    });
    expect(validateMappingTarget("a.example:0")).toEqual({
      ok: false,
      error: "The destination's port cannot be 0: enter one between 1 and 65535.",
    });
  });

  it("takes a blank name as none and refuses control characters and long names", () => {
    expect(validateMappingName("  ")).toEqual({ ok: true, value: null });
    expect(validateMappingName(" ssh ")).toEqual({ ok: true, value: "ssh" });
    expect(validateMappingName("a\tb")).toMatchObject({ ok: false });
    expect(validateMappingName("x".repeat(65))).toMatchObject({ ok: false });
    expect(validateMappingName("é".repeat(64))).toMatchObject({ ok: true });
  });

  it("refuses a name or a socket another mapping has", () => {
    expect(fieldProblem("mapping-name", values({ name: "ssh" }), [SSH])).toBe('There is already a mapping named "ssh".');
    expect(fieldProblem("mapping-listen", values({ listen: "0.0.0.0:2222" }), [SSH])).toBe(
      'Mapping "ssh" listens on 127.0.0.1:2222 for TCP already.',
    );
    expect(fieldProblem("mapping-listen", values({ listen: "127.0.0.1:2222", protocol: "udp" }), [SSH])).toBeNull();
    expect(fieldProblem("mapping-listen", values({ listen: "[::]:2222" }), [SSH])).toBeNull();
    expect(fieldProblem("mapping-listen", values({ listen: "127.0.0.1:5353", protocol: "both" }), [DNS])).toContain("for UDP already");
  });

  it("builds the mapping to send, and places the Rust side's fields", () => {
    expect(mappingFrom(values({ name: " ", listen: " 127.0.0.1:2223 " }), false)).toEqual({
      name: null,
      listen: "127.0.0.1:2223",
      target: "a.example:22",
      protocol: "tcp",
      route: "rules",
      enabled: false,
    });
    expect(fieldIdOf("mappings.target")).toBe("mapping-target");
    expect(fieldIdOf("general")).toBeNull();
  });

  it("says each state in words", () => {
    expect(stateText(SSH)).toBe("Listening on 127.0.0.1:2222 (TCP)");
    expect(stateText(row({ udp: "127.0.0.1:2222" }, { protocol: "both" }))).toBe("Listening on 127.0.0.1:2222 (TCP and UDP)");
    expect(stateText(DNS)).toBe("Stopped");
    expect(stateText(row({ state: { kind: "proxyStopped" } }))).toBe("Not listening: the proxy is stopped");
    const reason = "cannot listen on 127.0.0.1:2222 (TCP): the port is already in use by another program";
    expect(stateText(row({ state: { kind: "failed", reason } }))).toBe(`Failed: ${reason}`);
  });

  it("names a mapped session by its mapping in the live view", () => {
    expect(commandLabel({ protocol: "mapping", command: "CONNECT", mapping: "ssh" })).toBe("mapping ssh");
    expect(commandLabel({ protocol: "mapping", command: "UDP", mapping: "dns" })).toBe("mapping dns UDP");
    expect(commandLabel({ protocol: "SOCKS5", command: "CONNECT", mapping: null })).toBe("SOCKS5 CONNECT");
  });
});

describe("mappings view", () => {
  it("has one row per mapping with its state, last error and controls", async () => {
    await mount([row({ lastError: "cannot reach build.corp.example:22: connection refused" }), DNS]);
    const ssh = el('tr[data-mapping="ssh"]');
    expect(ssh.querySelector(".state")?.getAttribute("data-state")).toBe("listening");
    expect(text('tr[data-mapping="ssh"] .state-text')).toBe("Listening on 127.0.0.1:2222 (TCP)");
    expect(text('tr[data-mapping="ssh"] .last-error')).toBe(
      "Last error: cannot reach build.corp.example:22: connection refused",
    );
    expect(text('tr[data-mapping="ssh"] .toggle')).toBe("Stop");
    expect(text('tr[data-mapping="dns"] .toggle')).toBe("Start");
    expect(text('tr[data-mapping="dns"] .protocol')).toBe("UDP");
    expect(document.querySelector('tr[data-mapping="dns"] .last-error')).toBeNull();
    expect(el("#mappings-empty").hidden).toBe(true);
  });

  it("checks the dialog's fields before add_mapping, then adds", async () => {
    await mount();
    el<HTMLButtonElement>("#add-mapping").click();
    expect(el<HTMLDialogElement>("#mapping-dialog").hasAttribute("open")).toBe(true);
    type("#mapping-target", "build.corp.example");
    expect(text("#error-mapping-target")).toContain("is not a destination");
    expect(el("#mapping-target").getAttribute("aria-invalid")).toBe("true");
    el<HTMLButtonElement>("#mapping-save").click();
    await flush();
    expect(ipc.addMapping).not.toHaveBeenCalled();
    expect(text("#error-mapping-listen")).toContain('"127.0.0.1:" is not a listening address');

    vi.mocked(ipc.addMapping).mockResolvedValue([SSH, DNS, row({}, { name: "git", listen: "127.0.0.1:2223" })]);
    type("#mapping-name", "git");
    type("#mapping-listen", "127.0.0.1:2223");
    type("#mapping-target", "build.corp.example:22");
    el<HTMLButtonElement>("#mapping-save").click();
    await flush();
    expect(ipc.addMapping).toHaveBeenCalledExactlyOnceWith(mapping({ name: "git", listen: "127.0.0.1:2223" }));
    expect(el<HTMLDialogElement>("#mapping-dialog").hasAttribute("open")).toBe(false);
    expect(document.querySelector('tr[data-mapping="git"]')).not.toBeNull();
  });

  it("shows the Rust side's refusals next to the field they name", async () => {
    await mount();
    vi.mocked(ipc.addMapping).mockRejectedValue({
      errors: [
        {
          field: "mappings.listen",
          message: `Mapping "git" listens on port 1080 for TCP, the proxy's own port: the two cannot share it.`,
        },
        { field: "general", message: "The mappings could not be saved: disk full" },
      ],
    } satisfies SaveRefused);
    el<HTMLButtonElement>("#add-mapping").click();
    type("#mapping-listen", "127.0.0.1:1080");
    type("#mapping-target", "a.example:22");
    el<HTMLButtonElement>("#mapping-save").click();
    await flush();
    expect(text("#error-mapping-listen")).toContain("the proxy's own port");
    expect(document.activeElement?.id).toBe("mapping-listen");
    expect(text("#mapping-dialog-error")).toBe("The mappings could not be saved: disk full");
    expect(el<HTMLDialogElement>("#mapping-dialog").hasAttribute("open")).toBe(true);
  });

  it("edits a mapping in place under its name, keeping its switch", async () => {
    await mount();
    vi.mocked(ipc.editMapping).mockResolvedValue([SSH, DNS]);
    el<HTMLButtonElement>('tr[data-mapping="dns"] .edit').click();
    expect(el<HTMLInputElement>("#mapping-listen").value).toBe("127.0.0.1:5353");
    expect(el<HTMLSelectElement>("#mapping-protocol").value).toBe("udp");
    type("#mapping-target", "127.0.0.1:5300");
    el<HTMLButtonElement>("#mapping-save").click();
    await flush();
    expect(ipc.editMapping).toHaveBeenCalledExactlyOnceWith("dns", { ...DNS.mapping, target: "127.0.0.1:5300" });
  });

  it("starts, stops and retries a mapping by its name", async () => {
    const failed = row({ state: { kind: "failed", reason: "the port is already in use by another program" } });
    await mount([failed, DNS]);
    vi.mocked(ipc.setMappingEnabled).mockResolvedValue([SSH, DNS]);
    el<HTMLButtonElement>('tr[data-mapping="ssh"] .retry').click();
    await flush();
    expect(ipc.setMappingEnabled).toHaveBeenLastCalledWith("ssh", true);
    expect(document.querySelector('tr[data-mapping="ssh"] .retry'), "listening now").toBeNull();
    el<HTMLButtonElement>('tr[data-mapping="dns"] .toggle').click();
    await flush();
    expect(ipc.setMappingEnabled).toHaveBeenLastCalledWith("dns", true);
    vi.mocked(ipc.setMappingEnabled).mockRejectedValue({ errors: [{ field: "general", message: "disk full" }] });
    el<HTMLButtonElement>('tr[data-mapping="ssh"] .toggle').click();
    await flush();
    expect(ipc.setMappingEnabled).toHaveBeenLastCalledWith("ssh", false);
    expect(text("#mappings-error")).toBe("The mapping ssh could not be stopped: disk full");
  });

  it("removes a mapping after asking", async () => {
    await mount();
    vi.mocked(ipc.removeMapping).mockResolvedValue([DNS]);
    el<HTMLButtonElement>('tr[data-mapping="ssh"] .remove').click();
    expect(text("#confirm-remove-mapping-text")).toContain("127.0.0.1:2222 to build.corp.example:22");
    el<HTMLButtonElement>("#confirm-remove-mapping-no").click();
    await flush();
    expect(ipc.removeMapping).not.toHaveBeenCalled();
    el<HTMLButtonElement>('tr[data-mapping="ssh"] .remove').click();
    el<HTMLButtonElement>("#confirm-remove-mapping-yes").click();
    await flush();
    expect(ipc.removeMapping).toHaveBeenCalledExactlyOnceWith("ssh");
    expect(document.querySelector('tr[data-mapping="ssh"]')).toBeNull();
  });

  it("asks again only while shown, and redraws only what changed", async () => {
    vi.useFakeTimers();
    vi.mocked(ipc.listMappings).mockResolvedValue([SSH]);
    const section = document.createElement("section");
    document.body.replaceChildren(section);
    const view = mountMappings(section);
    await view.ready;
    await vi.advanceTimersByTimeAsync(REFRESH_EVERY * 3);
    expect(ipc.listMappings, "hidden: no timer").toHaveBeenCalledTimes(1);
    view.show();
    await vi.advanceTimersByTimeAsync(0);
    const drawn = el('tr[data-mapping="ssh"]');
    await vi.advanceTimersByTimeAsync(REFRESH_EVERY);
    expect(ipc.listMappings).toHaveBeenCalledTimes(3);
    expect(el('tr[data-mapping="ssh"]'), "the same answer is not redrawn").toBe(drawn);
    vi.mocked(ipc.listMappings).mockResolvedValue([row({ lastError: "cannot reach build.corp.example:22: refused" })]);
    await vi.advanceTimersByTimeAsync(REFRESH_EVERY);
    expect(text('tr[data-mapping="ssh"] .last-error')).toContain("refused");
    view.hide();
    await vi.advanceTimersByTimeAsync(REFRESH_EVERY * 3);
    expect(ipc.listMappings).toHaveBeenCalledTimes(4);
  });
});
