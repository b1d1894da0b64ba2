// Every call to the Rust side goes through this module, typed after the IPC
// contract. Nothing else imports @tauri-apps/api.

import { invoke } from "@tauri-apps/api/core";
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

/** The rejection of save_settings. */
export interface FieldError {
  field: string;
  message: string;
}
export interface SaveRefused {
  errors: FieldError[];
}

export interface User {
  name: string;
  enabled: boolean;
}

export interface UsersView {
  users: User[];
  keyringError: string | null;
}

/** The rejection of the user commands, test_upstream, copy_text, qr_code. */
export interface Refused {
  message: string;
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

/** Rejects with a SaveRefused ({ errors }) when a field is refused. */
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
