// Every call to the Rust side goes through this module, typed after the IPC
// contract. Nothing else imports @tauri-apps/api. A refused call rejects
// with { message } (save_settings: { errors: FieldError[] }); errors.ts
// reads both.

import { Channel, invoke } from "@tauri-apps/api/core";
import { listen, type UnlistenFn } from "@tauri-apps/api/event";

export type ServerState = "stopped" | "running" | "failed";

export interface Status {
  state: ServerState;
  listening: string[];
  shareAddresses: string[];
  error: string | null;
  openWarning: boolean;
}

export type ClientPolicy = "loopback" | "lan" | "custom";

export interface Timeouts {
  handshake: number;
  connect: number;
  idle: number;
  bind: number;
  udpIdle: number;
}

export interface Settings {
  port: number;
  shareOnLan: boolean;
  passwordRequired: boolean;
  clientPolicy: ClientPolicy;
  allowedRanges: string[];
  timeouts: Timeouts;
  upstream: string[];
  startServerOnLaunch: boolean;
  launchAtLogin: boolean;
  notifications: boolean;
}

export interface LoadedSettings {
  settings: Settings;
  warning: string | null;
}

export interface SavedSettings {
  settings: Settings;
  status: Status;
}

/** One refused field in the rejection of save_settings ({ errors: FieldError[] }). */
export interface FieldError {
  field: string;
  message: string;
}

export interface User {
  name: string;
  enabled: boolean;
}

export interface UsersView {
  users: User[];
  keyringError: string | null;
}

export type LogLevel = "error" | "warn" | "info" | "debug";

export interface Step {
  name: string;
  ok: boolean;
  millis: number | null;
  error: string | null;
}

export interface UpstreamReport {
  hops: Step[];
  target: Step;
  udp: {
    status: "ok" | "failed" | "unsupported";
    millis: number | null;
    detail: string | null;
  };
}

export const STATUS_EVENT = "status-changed";

export function serverStatus(): Promise<Status> {
  return invoke<Status>("server_status");
}

export function startServer(): Promise<Status> {
  return invoke<Status>("start_server");
}

export function stopServer(): Promise<Status> {
  return invoke<Status>("stop_server");
}

export function getSettings(): Promise<LoadedSettings> {
  return invoke<LoadedSettings>("get_settings");
}

/** Rejects with { errors: FieldError[] } when a field is refused (see errors.ts). */
export function saveSettings(settings: Settings): Promise<SavedSettings> {
  return invoke<SavedSettings>("save_settings", { settings });
}

export function listUsers(): Promise<UsersView> {
  return invoke<UsersView>("list_users");
}

export function addUser(name: string, password: string): Promise<UsersView> {
  return invoke<UsersView>("add_user", { name, password });
}

export function renameUser(from: string, to: string): Promise<UsersView> {
  return invoke<UsersView>("rename_user", { from, to });
}

export function setPassword(name: string, password: string): Promise<UsersView> {
  return invoke<UsersView>("set_password", { name, password });
}

export function setUserEnabled(name: string, enabled: boolean): Promise<UsersView> {
  return invoke<UsersView>("set_user_enabled", { name, enabled });
}

export function deleteUser(name: string): Promise<UsersView> {
  return invoke<UsersView>("delete_user", { name });
}

export function readLogs(level: LogLevel): Promise<string[]> {
  return invoke<string[]>("read_logs", { level });
}

/** SVG markup of a QR code for text. */
export function qrCode(text: string): Promise<string> {
  return invoke<string>("qr_code", { text });
}

export function testUpstream(target: string): Promise<UpstreamReport> {
  return invoke<UpstreamReport>("test_upstream", { target });
}

export function copyText(text: string): Promise<void> {
  return invoke<void>("copy_text", { text });
}

/** Calls handler with every Status the server announces; resolves to the unsubscribe function. */
export function onStatusChanged(handler: (status: Status) => void): Promise<UnlistenFn> {
  return listen<Status>(STATUS_EVENT, (event) => handler(event.payload));
}

// ---- live connections and bandwidth (src-tauri/src/live.rs)

/** [milliseconds since the epoch, bytes/s up, bytes/s down] */
export type Point = [number, number, number];

/** [id, bytes up, bytes down, rate up, rate down] */
export type Change = [number, number, number, number, number];

export type Command = "CONNECT" | "BIND" | "UDP";

export interface LiveRow {
  id: number;
  client: string;
  user: string | null;
  protocol: string;
  command: Command;
  target: string;
  route: string;
  startedAt: number;
  bytesUp: number;
  bytesDown: number;
  rateUp: number;
  rateDown: number;
}

export interface ClosedRow {
  seq: number;
  id: number;
  client: string;
  user: string | null;
  command: Command;
  target: string;
  route: string;
  startedAt: number;
  endedAt: number;
  durationMs: number;
  bytesUp: number;
  bytesDown: number;
}

export interface LiveTotals {
  bytesUp: number;
  bytesDown: number;
  activeSessions: number;
  sessions: number;
  refusedClients: number;
  authFailures: number;
  since: number;
}

export interface UserRow {
  user: string | null;
  bytesUp: number;
  bytesDown: number;
  sessions: number;
  active: number;
}

export interface LiveReset {
  kind: "reset";
  at: number;
  sessions: LiveRow[];
  closed: ClosedRow[];
  closedLimit: number;
  totals: LiveTotals;
  users: UserRow[];
  history: Point[];
}

export interface LiveTick {
  kind: "tick";
  at: number;
  added: LiveRow[];
  changed: Change[];
  removed: number[];
  closed: ClosedRow[];
  totals: LiveTotals;
  users: UserRow[] | null;
  point: Point;
}

export type LiveMessage = LiveReset | LiveTick;

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
  await invoke<void>("watch_live", { onMessage: channel });
  return async () => {
    active = false;
    // Names its channel: a late stop never silences a newer watch.
    await invoke<void>("unwatch_live", { channel: channel.id });
  };
}

/** Ends one session; false when it had already ended. */
export function closeSession(id: number): Promise<boolean> {
  return invoke<boolean>("close_session", { id });
}

/** Ends every open session; resolves to how many there were. */
export function closeAllSessions(): Promise<number> {
  return invoke<number>("close_all_sessions");
}
