// Every call to the Rust side goes through this module. The types are
// generated from the Rust side's (bindings.ts, from src-tauri's IPC
// contract); `call` holds every command to its arguments and result there,
// so the two sides cannot drift. Nothing else imports @tauri-apps/api.
// A refused call rejects with the command's error type: { message },
// { kind, message } for the users, { errors: FieldError[] } for the
// settings and the mappings; errors.ts reads them.

import { Channel, invoke } from "@tauri-apps/api/core";
import { listen, type UnlistenFn } from "@tauri-apps/api/event";
import type {
  AppSettings,
  ClientPolicyChoice,
  ClosedRow as GeneratedClosedRow,
  Commands,
  DeviceEntry,
  Events,
  FirewallCheck,
  LimitSettings,
  ListedUser,
  LiveMessage as GeneratedLiveMessage,
  MappingEntry,
  MappingRow as GeneratedMappingRow,
  MappingRowState,
  NewGuestPass as GeneratedNewGuestPass,
  OwnerRow as GeneratedOwnerRow,
  OwnerState as GeneratedOwnerState,
  PolicyEntry,
  ReadLogsArgs,
  RemoteReachSettings,
  Reset,
  Row,
  ServerStatus,
  SettingsView,
  Saved,
  Step as GeneratedStep,
  SystemProxyStatus,
  Tick,
  TimeoutSettings,
  TotalsRow,
  QuotaRow as GeneratedQuotaRow,
  UpstreamTest,
  UsageView as GeneratedUsageView,
  UserRow as GeneratedUserRow,
  UserState as GeneratedUserState,
  UsersView as GeneratedUsersView,
  VisitPage as GeneratedVisitPage,
  VisitRow,
} from "./bindings";

export type { FieldError, SaveRefused, UserErrorKind, UserRefusal, Refused } from "./bindings";

/** The server's status: a union tagged by `state`. */
export type Status = ServerStatus;
export type ServerState = Status["state"];
export type ClientPolicy = ClientPolicyChoice;
export type Timeouts = TimeoutSettings;
export type Limits = LimitSettings;
export type RemoteReach = RemoteReachSettings;
export type Settings = AppSettings;
export type LoadedSettings = SettingsView;
export type SavedSettings = Saved;
/** A user as listed, with its state now. */
export type User = ListedUser;
export type UserState = GeneratedUserState;
/** What a user or a device may do, each part as typed ("2 MB/s"); empty parts limit nothing. */
export type Policy = PolicyEntry;
export type PolicyCommand = NonNullable<Policy["commands"]>[number];
export type UsersView = GeneratedUsersView;
export type LogLevel = ReadLogsArgs["level"];
export type Step = GeneratedStep;
export type UpstreamReport = UpstreamTest;

export const STATUS_EVENT = "status-changed" satisfies keyof Events;
export const VISITS_EVENT = "visits-changed" satisfies keyof Events;
export const USERS_EVENT = "users-changed" satisfies keyof Events;
export const SYSTEM_PROXY_EVENT = "system-proxy-changed" satisfies keyof Events;

/** Calls `command` with its arguments; resolves to its result, rejects with its error. */
function call<K extends keyof Commands>(command: K, args: Commands[K]["args"]): Promise<Commands[K]["result"]> {
  return invoke<Commands[K]["result"]>(command, args);
}

const none = {} as Record<string, never>;

export function serverStatus(): Promise<Status> {
  return call("server_status", none);
}

export function startServer(): Promise<Status> {
  return call("start_server", none);
}

export function stopServer(): Promise<Status> {
  return call("stop_server", none);
}

export function getSettings(): Promise<LoadedSettings> {
  return call("get_settings", none);
}

/** Whether this build has GSS-API (Kerberos) logins: the settings show their section only then. */
export function gssapiAvailable(): Promise<boolean> {
  return call("gssapi_available", none);
}

/** Rejects with { errors: FieldError[] } when a field is refused (see errors.ts). */
export function saveSettings(settings: Settings): Promise<SavedSettings> {
  return call("save_settings", { settings });
}

export function listUsers(): Promise<UsersView> {
  return call("list_users", none);
}

/** The user calls reject with a UserRefusal ({ kind, message }). */
export function addUser(name: string, password: string): Promise<UsersView> {
  return call("add_user", { name, password });
}

export function renameUser(from: string, to: string): Promise<UsersView> {
  return call("rename_user", { from, to });
}

export function setPassword(name: string, password: string): Promise<UsersView> {
  return call("set_password", { name, password });
}

export function setUserEnabled(name: string, enabled: boolean): Promise<UsersView> {
  return call("set_user_enabled", { name, enabled });
}

export function deleteUser(name: string): Promise<UsersView> {
  return call("delete_user", { name });
}

/** Rejects with { errors: FieldError[] } (fields "policy.rateLimit", ..., or "general"). */
export function setUserPolicy(name: string, policy: Policy): Promise<UsersView> {
  return call("set_user_policy", { name, policy });
}

// ---- guest passes and use (src-tauri/src/guest.rs, usage.rs)

/** A guest pass just made: its credentials (shown once), where devices reach the proxy, the users after. */
export type NewGuestPass = GeneratedNewGuestPass;

/**
 * Makes a guest pass ending after `hours` and/or `gigabytes` (as typed; empty: none), named `name` (empty:
 * generated). Rejects with { errors: FieldError[] } (fields "guest.hours", "guest.gigabytes", "guest.name", or "general").
 */
export function addGuestPass(name: string, hours: string, gigabytes: string): Promise<NewGuestPass> {
  return call("add_guest_pass", { name, hours, gigabytes });
}

/** Revokes a guest pass: it can no longer sign in and its connections end. Rejects with a UserRefusal. */
export function revokeGuest(name: string): Promise<UsersView> {
  return call("revoke_guest", { name });
}

export function revokeAllGuests(): Promise<UsersView> {
  return call("revoke_all_guests", none);
}

/** One user's or device's use against its quota and rate limit, and whether it is refused now. */
export type OwnerRow = GeneratedOwnerRow;
export type OwnerState = GeneratedOwnerState;
export type QuotaRow = GeneratedQuotaRow;

/** Calls handler whenever the users change (from the window or the tray); resolves to the unsubscribe function. */
export function onUsersChanged(handler: () => void): Promise<UnlistenFn> {
  return listen<Events[typeof USERS_EVENT]>(USERS_EVENT, () => handler());
}

/** Each user's and device's use as the app last read it (none while the proxy is stopped), and whether it runs. */
export type UsageView = GeneratedUsageView;

export function listUsage(): Promise<UsageView> {
  return call("list_usage", none);
}

export function readLogs(level: LogLevel): Promise<string[]> {
  return call("read_logs", { level });
}

/** SVG markup of a QR code for text. */
export function qrCode(text: string): Promise<string> {
  return call("qr_code", { text });
}

export function testUpstream(target: string): Promise<UpstreamReport> {
  return call("test_upstream", { target });
}

export async function copyText(text: string): Promise<void> {
  await call("copy_text", { text });
}

/** Calls handler with every Status the server announces; resolves to the unsubscribe function. */
export function onStatusChanged(handler: (status: Status) => void): Promise<UnlistenFn> {
  return listen<Events[typeof STATUS_EVENT]>(STATUS_EVENT, (event) => handler(event.payload));
}

// ---- the system proxy toggle (src-tauri/src/sysproxy/)

/** The desktop found (null: none supported) and what it is given, on or off, why a change failed, the terminals' file. */
export type SystemProxy = SystemProxyStatus;

export function systemProxyStatus(): Promise<SystemProxy> {
  return call("system_proxy_status", none);
}

/**
 * Points the desktop's proxy settings at this proxy (starting the server if it is stopped), or puts the
 * user's own settings back. Rejects with { message } when that could not be done.
 */
export function setSystemProxy(on: boolean): Promise<SystemProxy> {
  return call("set_system_proxy", { on });
}

/** Calls handler with the toggle's state each time it changes (the tray, a server stop too). */
export function onSystemProxyChanged(handler: (status: SystemProxy) => void): Promise<UnlistenFn> {
  return listen<Events[typeof SYSTEM_PROXY_EVENT]>(SYSTEM_PROXY_EVENT, (event) => handler(event.payload));
}

// ---- devices that opened the setup page (src-tauri/src/visits.rs)

/** A device and a page it fetched; `agent` is the device's own word (show it as text only). */
export type Visit = VisitRow;
export type VisitPage = GeneratedVisitPage;

/** The devices that recently opened the setup page or fetched the PAC file, the most recent first. */
export function recentVisits(): Promise<Visit[]> {
  return call("recent_visits", none);
}

/** Calls handler with the whole list each time a device fetches a page; resolves to the unsubscribe function. */
export function onVisitsChanged(handler: (visits: Visit[]) => void): Promise<UnlistenFn> {
  return listen<Events[typeof VISITS_EVENT]>(VISITS_EVENT, (event) => handler(event.payload));
}

// ---- live connections and bandwidth (src-tauri/src/live.rs)

export type LiveMessage = GeneratedLiveMessage;
export type LiveReset = Extract<LiveMessage, { kind: "reset" }> & Reset;
export type LiveTick = Extract<LiveMessage, { kind: "tick" }> & Tick;
export type LiveRow = Row;
export type ClosedRow = GeneratedClosedRow;
export type LiveTotals = TotalsRow;
export type UserRow = GeneratedUserRow;
export type Command = Row["command"];
/** [milliseconds since the epoch, bytes/s up, bytes/s down] */
export type Point = Reset["history"][number];
/** [id, bytes up, bytes down, rate up, rate down] */
export type Change = Tick["changed"][number];

/**
 * Starts watching the live connections: handler gets a reset at once, then
 * once a second what changed. Resolves to the function that stops watching.
 */
export async function watchLive(handler: (message: LiveMessage) => void): Promise<() => Promise<void>> {
  const channel = new Channel<LiveMessage>();
  let active = true;
  channel.onmessage = (message) => {
    if (active) handler(message);
  };
  await call("watch_live", { onMessage: channel });
  return async () => {
    active = false;
    // Names its channel: a late stop never silences a newer watch.
    await call("unwatch_live", { channel: channel.id });
  };
}

/** Ends one session; false when it had already ended. */
export function closeSession(id: number): Promise<boolean> {
  return call("close_session", { id });
}

/** Ends every open session; resolves to how many there were. */
export function closeAllSessions(): Promise<number> {
  return call("close_all_sessions", none);
}

// ---- port mappings (src-tauri/src/mappings.rs)

/** A mapping as saved; `name` null: it goes by LISTEN/PROTOCOL. */
export type Mapping = MappingEntry;
export type MappingProtocol = Mapping["protocol"];
export type MappingRoute = Mapping["route"];
/** A mapping with what the running server says of it; the calls name it by `name`. */
export type MappingRow = GeneratedMappingRow;
export type MappingState = MappingRowState;

export function listMappings(): Promise<MappingRow[]> {
  return call("list_mappings", none);
}

/** The mapping calls reject with { errors: FieldError[] } (fields "mappings.listen", ..., or "general"). */
export function addMapping(mapping: Mapping): Promise<MappingRow[]> {
  return call("add_mapping", { mapping });
}

export function editMapping(name: string, mapping: Mapping): Promise<MappingRow[]> {
  return call("edit_mapping", { name, mapping });
}

export function removeMapping(name: string): Promise<MappingRow[]> {
  return call("remove_mapping", { name });
}

/** Starts (true) or stops a mapping; starting one that failed tries again. */
export function setMappingEnabled(name: string, enabled: boolean): Promise<MappingRow[]> {
  return call("set_mapping_enabled", { name, enabled });
}

// ---- devices (src-tauri/src/devices.rs)

/** A device by address or range, and what it may do; the calls name it by its name, or its address. */
export type Device = DeviceEntry;

export function listDevices(): Promise<Device[]> {
  return call("list_devices", none);
}

/** The device calls reject with { errors: FieldError[] } ("devices.address", "policy.quota", ..., or "general"). */
export function addDevice(device: Device): Promise<Device[]> {
  return call("add_device", { device });
}

export function editDevice(name: string, device: Device): Promise<Device[]> {
  return call("edit_device", { name, device });
}

export function removeDevice(name: string): Promise<Device[]> {
  return call("remove_device", { name });
}

// ---- the firewall check (src-tauri/src/firewall.rs)

export type { FirewallCheck, FirewallReport } from "./bindings";

/** Asks the firewall whether the network reaches each shared listener (takes a moment: the firewall's commands run). */
export function firewallCheck(): Promise<FirewallCheck> {
  return call("firewall_check", none);
}
