// Generated from src-tauri (src/commands.rs, the IPC contract) by
// `UPDATE_BINDINGS=1 cargo test -p socksbox-app bindings`. Do not edit.

import type { Channel } from "@tauri-apps/api/core";

export type AddDeviceArgs = { device: DeviceEntry, };

export type AddMappingArgs = { mapping: MappingEntry, };

export type AddUserArgs = { name: string, password: string, };

export type AppSettings = { 
/**
 * The port to listen on.
 */
port: number, 
/**
 * Listen on every interface and admit LAN clients.
 */
shareOnLan: boolean, 
/**
 * HTTP on the same port: proxy-core's `http`.
 */
http: HttpSettings, 
/**
 * Require a username and password.
 */
passwordRequired: boolean, 
/**
 * Kerberos single sign-on (GSS-API, RFC 1961): proxy-core's `gssapi`
 * when enabled.
 */
gssapi: GssapiSettings, 
/**
 * Which clients may connect.
 */
clientPolicy: ClientPolicyChoice, 
/**
 * The ranges of the custom policy.
 */
allowedRanges: Array<string>, 
/**
 * Time limits in seconds.
 */
timeouts: TimeoutSettings, 
/**
 * How many connections, handshakes, UDP associations and BIND
 * listeners the server serves at once, in all and per client.
 */
limits: LimitSettings, 
/**
 * Destinations refused to every client (this machine's programs too),
 * one address or range each: proxy-core's `targets.deny`.
 */
denyTargets: Array<string>, 
/**
 * What clients from other machines may reach beyond the internet.
 */
remoteReach: RemoteReachSettings, 
/**
 * Upstream hops, as URLs without passwords.
 */
upstream: Array<string>, 
/**
 * Start the server when the app starts.
 */
startServerOnLaunch: boolean, 
/**
 * Start the app at login.
 */
launchAtLogin: boolean, 
/**
 * Show desktop notifications.
 */
notifications: boolean, 
/**
 * The language of the window, the tray and the notifications: "en",
 * "zh-CN", "ru", or "system" (the OS's; any other value reads so).
 */
language: string, 
/**
 * While this app is the system proxy, also write a file of proxy
 * variables for terminals (`proxy.env`, for a shell profile to read).
 */
systemProxyEnvFile: boolean, 
/**
 * The users (names only: passwords are in the keyring), whether each
 * may log in, and what each may do.
 */
users: Array<UserEntry>, 
/**
 * Port mappings: ports of this machine that always lead to one
 * destination (proxy-core's `mappings`), each on or off.
 */
mappings: Array<MappingEntry>, 
/**
 * Devices, by address or range, and what each may do whoever uses it
 * (proxy-core's `devices`).
 */
devices: Array<DeviceEntry>, };

export type ClientPolicyChoice = "loopback" | "lan" | "custom";

export type ClosedRow = { seq: number, endedAt: number, durationMs: number, id: number, client: string, 
/**
 * The name the session goes by: a user whose password the server
 * checked, or a SOCKS4 USERID, which is only the client's word.
 */
user: string | null, 
/**
 * Whether `user` was checked (a SOCKS5 or HTTP Basic password); false for a SOCKS4
 * USERID and when there is no user.
 */
userVerified: boolean, protocol: string, command: "CONNECT" | "BIND" | "UDP" | "FORWARD", target: string, route: string, 
/**
 * The port mapping the session came in by (`protocol` is "mapping").
 */
mapping: string | null, 
/**
 * Milliseconds since the Unix epoch.
 */
startedAt: number, bytesUp: number, bytesDown: number, rateUp: number, rateDown: number, 
/**
 * A rate limit (its user's, its device's or the server's) held it
 * back within the last second.
 */
slowed: boolean, };

export type DeviceEntry = { 
/**
 * Shown in the log and the app; none: the address.
 */
name: string | null, 
/**
 * An address ("192.168.1.23"), a range ("192.168.1.0/24") or "lan".
 */
address: string, 
/**
 * What it may do.
 */
policy: PolicyEntry, };

export type DeviceNameArgs = { name: string, };

export type EditDeviceArgs = { 
/**
 * The device's name now (its name, or its address).
 */
name: string, device: DeviceEntry, };

export type EditMappingArgs = { 
/**
 * The mapping's name now.
 */
name: string, mapping: MappingEntry, };

export type FieldError = { 
/**
 * The field, as the front end names it (`port`, `timeouts.connect`).
 */
field: string, 
/**
 * What is wrong, in words.
 */
message: string, };

export type FirewallCheck = { 
/**
 * One per listener, in the server's order.
 */
reports: Array<FirewallReport>, };

export type FirewallReport = { 
/**
 * The listening address, as the server lists it.
 */
listen: string, 
/**
 * Its port.
 */
port: number, 
/**
 * The firewall that answered, in words ("ufw", "firewalld"), or
 * "the firewall" when none was named.
 */
firewall: string, 
/**
 * Its answer.
 */
state: FirewallState, 
/**
 * Why it blocks, in the firewall's terms (while it blocks).
 */
why: string | null, 
/**
 * The command line that opens the port (while it blocks).
 */
fix: string | null, 
/**
 * What a person can check instead (when the answer is unknown).
 */
whatToCheck: string | null, };

export type FirewallState = "admits" | "blocks" | "unknown";

export type GssapiSettings = { 
/**
 * Offer the GSS-API method (and then require a login).
 */
enabled: boolean, 
/**
 * The keytab with the service principal's key; empty: the system's
 * (`KRB5_KTNAME`, else krb5.conf's, else `/etc/krb5.keytab`).
 */
keytab: string, 
/**
 * The service principal clients ask for (`rcmd/HOST@REALM`); empty:
 * any principal whose key is in the keytab.
 */
principal: string, 
/**
 * The per-message protection levels accepted.
 */
protection: Array<ProtectionLevel>, 
/**
 * The client principals (`alice@REALM`), realms (`@REALM`) or `*` that
 * may log in; empty: those of the service's own realm.
 */
allow: Array<string>, };

export type GuestPass = { 
/**
 * The user name to sign in with.
 */
name: string, 
/**
 * The generated password (shown once; kept in the keyring).
 */
password: string, 
/**
 * The pass's policy: its expiry and its budget.
 */
policy: PolicyEntry, };

export type GuestPassRequest = { 
/**
 * The user name; empty: "guest-" and four random characters.
 */
name: string, 
/**
 * The pass ends this many hours from now ("24", "1.5"); empty: no time
 * limit.
 */
hours: string, 
/**
 * The pass ends once this many GB went through it, up and down
 * together ("2", "0.5"); empty: no budget.
 */
gigabytes: string, };

export type HttpSettings = { 
/**
 * Serve HTTP.
 */
enabled: boolean, };

export type LimitSettings = { 
/**
 * Client connections served at once, handshakes included.
 */
maxSessions: number, 
/**
 * Connections still in their handshake, of all clients together.
 */
maxHandshakes: number, 
/**
 * Connections still in their handshake, per client.
 */
maxHandshakesPerClient: number, 
/**
 * Connections served at once, per client.
 */
maxSessionsPerClient: number, 
/**
 * UDP associations at once, per client.
 */
maxUdpPerClient: number, 
/**
 * BIND listeners at once, per client.
 */
maxBindPerClient: number, 
/**
 * Datagrams a second a UDP association relays from its client.
 */
udpDatagramsPerSecond: number, 
/**
 * Hold this machine's own programs to the per-client limits too.
 */
perClientLimitsForLoopback: boolean, 
/**
 * Bytes a second each way for the whole server, shared by everyone
 * who wants them ("50 MB/s"); empty: no limit.
 */
rateLimit: string, };

export type ListedUser = { 
/**
 * The name the client sends.
 */
name: string, 
/**
 * Whether the user may log in.
 */
enabled: boolean, 
/**
 * What the user may do.
 */
policy: PolicyEntry, 
/**
 * Whether it can log in now.
 */
state: UserState, 
/**
 * Made as a guest pass: revoked rather than deleted.
 */
guest: boolean, };

export type LiveMessage = { "kind": "reset" } & Reset | { "kind": "tick" } & Tick;

export type MappingEntry = { 
/**
 * Shown in the live view and the log; none: `LISTEN/PROTOCOL`.
 */
name: string | null, 
/**
 * Where it listens: `ADDRESS:PORT`.
 */
listen: string, 
/**
 * Where it leads: `HOST:PORT`.
 */
target: string, 
/**
 * TCP, UDP or both on the same port.
 */
protocol: "tcp" | "udp" | "both", 
/**
 * As the routing rules say, through the upstream chain, or direct.
 */
route: "rules" | "chain" | "direct", 
/**
 * Off: kept, but not listening.
 */
enabled: boolean, };

export type MappingNameArgs = { name: string, };

export type MappingRow = { 
/**
 * Its name: the one given, or `LISTEN/PROTOCOL`; the commands name a
 * mapping by it.
 */
name: string, 
/**
 * The mapping as saved.
 */
mapping: MappingEntry, 
/**
 * What it is doing.
 */
state: MappingRowState, 
/**
 * The TCP address it listens on, with the real port.
 */
tcp: string | null, 
/**
 * The UDP address it listens on.
 */
udp: string | null, 
/**
 * Why its target could not be reached, the last time it could not.
 */
lastError: string | null, };

export type MappingRowState = { "kind": "listening" } | { "kind": "stopped" } | { "kind": "proxyStopped" } | { "kind": "failed", "reason": string };

export type NewGuestPass = { pass: GuestPass, 
/**
 * `HOST:PORT` a client uses for SOCKS5 (and HTTP, when served): this
 * machine's LAN addresses while sharing, else the loopback one.
 */
addresses: Array<string>, 
/**
 * The same port speaks HTTP (the setup page and the PAC file too).
 */
servesHttp: boolean, 
/**
 * Whether passwords are required (without, anyone who reaches the
 * proxy gets in, pass or not).
 */
passwordRequired: boolean, 
/**
 * Whether the proxy is shared on the network (else only programs on
 * this computer reach it).
 */
sharing: boolean, users: UsersView, };

export type OwnerKind = "user" | "device";

export type OwnerRow = { 
/**
 * What the server counts it as: "user alice", "device tv".
 */
owner: string, kind: OwnerKind, 
/**
 * The user's name, or the device's (its address when it has none).
 */
name: string, 
/**
 * Bytes up and down together today (local time).
 */
today: number, 
/**
 * This week, from Monday.
 */
thisWeek: number, 
/**
 * This month.
 */
thisMonth: number, 
/**
 * Since it was first counted.
 */
total: number, 
/**
 * Its quota and the bytes counted against it.
 */
quota: QuotaRow | null, 
/**
 * Its rate limit, bytes a second each way.
 */
rateLimit: number | null, 
/**
 * Bytes a second, up and down together, between the sampler's last two
 * readings (0 at the first).
 */
rate: number, 
/**
 * Whether a new request of it is admitted now, and if not, why not.
 */
state: OwnerState, 
/**
 * The server's reason, in its words ("outside its access hours
 * (Mon-Fri 16:00-20:00)"), when it refuses it now.
 */
refused: string | null, };

export type OwnerState = "active" | "expired" | "outsideHours" | "overQuota" | "refused";

export type PolicyEntry = { 
/**
 * Bytes a second each way, shared by all its sessions ("2 MB/s");
 * empty: no limit.
 */
rateLimit: string, 
/**
 * Bytes up and down together per day, week or month ("5 GB/day"), or
 * in all ("2 GB/total", a budget that never starts again); empty: no
 * quota.
 */
quota: string, 
/**
 * When it may connect, local time ("Mon-Fri 16:00-20:00"); none: at
 * any time.
 */
hours: Array<string>, 
/**
 * The commands it may use; `None`: all of them.
 */
commands: Array<"connect" | "bind" | "udp"> | null, 
/**
 * When not empty, the only destinations it may reach (".example.org",
 * "10.1.0.0/16", "*:443").
 */
allowTargets: Array<string>, 
/**
 * Destinations it may not reach.
 */
denyTargets: Array<string>, 
/**
 * Sessions at once; `None`: no limit.
 */
maxSessions: number | null, 
/**
 * When it stops being admitted, in RFC 3339 ("2026-12-24T18:00:00Z");
 * empty: never.
 */
expires: string, };

export type ProtectionLevel = "none" | "integrity" | "confidentiality" | "selective";

export type QuotaRow = { 
/**
 * Bytes allowed in one period.
 */
bytes: number, period: "day" | "week" | "month" | "total", 
/**
 * Bytes counted in the current period.
 */
used: number, };

export type ReadLogsArgs = { level: "error" | "warn" | "info" | "debug", };

export type Refused = { message: string, };

export type RemoteReachSettings = { 
/**
 * Link-local addresses: 169.254.0.0/16 and fe80::/10.
 */
linkLocal: boolean, 
/**
 * Multicast addresses and the broadcast address.
 */
multicast: boolean, };

export type RenameUserArgs = { from: string, to: string, };

export type Reset = { at: number, sessions: Array<Row>, closed: Array<ClosedRow>, 
/**
 * How many closed sessions the view keeps.
 */
closedLimit: number, totals: TotalsRow, users: Array<UserRow>, 
/**
 * The graph's points, oldest first.
 */
history: Array<[number, number, number]>, 
/**
 * Each user's and device's use against its limits.
 */
owners: Array<OwnerRow>, };

export type Row = { id: number, client: string, 
/**
 * The name the session goes by: a user whose password the server
 * checked, or a SOCKS4 USERID, which is only the client's word.
 */
user: string | null, 
/**
 * Whether `user` was checked (a SOCKS5 or HTTP Basic password); false for a SOCKS4
 * USERID and when there is no user.
 */
userVerified: boolean, protocol: string, command: "CONNECT" | "BIND" | "UDP" | "FORWARD", target: string, route: string, 
/**
 * The port mapping the session came in by (`protocol` is "mapping").
 */
mapping: string | null, 
/**
 * Milliseconds since the Unix epoch.
 */
startedAt: number, bytesUp: number, bytesDown: number, rateUp: number, rateDown: number, 
/**
 * A rate limit (its user's, its device's or the server's) held it
 * back within the last second.
 */
slowed: boolean, };

export type SaveRefused = { errors: Array<FieldError>, };

export type SaveSettingsArgs = { settings: AppSettings, };

export type Saved = { settings: AppSettings, status: ServerStatus, };

export type ServerStatus = { "state": "stopped" } | { "state": "running", 
/**
 * The addresses it listens on.
 */
listening: Array<string>, 
/**
 * The addresses other devices use, while sharing on the LAN.
 */
shareAddresses: Array<string>, 
/**
 * Sharing on the LAN without passwords.
 */
openWarning: boolean, 
/**
 * HTTP is served on the same port: the HTTP proxy, and the setup
 * page and PAC file the LAN sharing section offers.
 */
servesHttp: boolean, } | { "state": "failed", 
/**
 * Why, in words.
 */
error: string, };

export type SessionIdArgs = { id: number, };

export type SetMappingEnabledArgs = { name: string, enabled: boolean, };

export type SetPasswordArgs = { name: string, password: string, };

export type SetSystemProxyArgs = { 
/**
 * Point the desktop at this proxy (starting it if it is stopped), or
 * put the user's own settings back.
 */
on: boolean, };

export type SetUserEnabledArgs = { name: string, enabled: boolean, };

export type SetUserPolicyArgs = { name: string, policy: PolicyEntry, };

export type SettingsView = { settings: AppSettings, warning: string | null, 
/**
 * The OS's language as the app reads it (LANG, LC_ALL, ...): what
 * "system" means for the window too, whose webview may not know it.
 */
systemLanguage?: string, };

export type Step = { name: string, ok: boolean, millis: number | null, error: string | null, };

export type SystemProxyStatus = { 
/**
 * The desktop whose proxy settings the toggle changes ("GNOME");
 * none when no supported desktop was found (the toggle is off limits).
 */
desktop: string | null, 
/**
 * What that desktop is given ("SOCKS5, HTTP and HTTPS").
 */
protocols: string | null, 
/**
 * The desktop's settings point at this proxy (this app changed them
 * and has not put them back yet).
 */
on: boolean, 
/**
 * Where they point: "127.0.0.1:1080".
 */
address: string | null, 
/**
 * Why the last change failed, in words.
 */
error: string | null, 
/**
 * At this start the user's own proxy settings were put back: the last
 * run ended (a crash, a power loss) without turning them back itself.
 */
recovered: boolean, 
/**
 * The file for terminals (`http_proxy`, `https_proxy`, `all_proxy`,
 * `no_proxy`), written while the system proxy is on if the settings
 * ask for it.
 */
envFile: string, 
/**
 * The line a shell profile (`~/.bashrc`, `~/.profile`) needs to read
 * it.
 */
envLine: string, 
/**
 * The file is there now.
 */
envWritten: boolean, };

export type TestUpstreamArgs = { target: string, };

export type TextArgs = { text: string, };

export type Tick = { at: number, added: Array<Row>, changed: Array<[number, number, number, number, number, boolean]>, removed: Array<number>, closed: Array<ClosedRow>, totals: TotalsRow, 
/**
 * Only when some user's figures changed.
 */
users: Array<UserRow> | null, 
/**
 * The graph's new point.
 */
point: [number, number, number], 
/**
 * Only when some user's or device's use changed.
 */
owners: Array<OwnerRow> | null, };

export type TimeoutSettings = { 
/**
 * Greeting, authentication and request.
 */
handshake: number, 
/**
 * Reaching a target.
 */
connect: number, 
/**
 * An idle relay.
 */
idle: number, 
/**
 * A BIND's wait for its peer.
 */
bind: number, 
/**
 * An idle UDP association.
 */
udpIdle: number, };

export type TotalsRow = { 
/**
 * Bytes up, of sessions open and closed.
 */
bytesUp: number, 
/**
 * Bytes down, of sessions open and closed.
 */
bytesDown: number, 
/**
 * Sessions open now.
 */
activeSessions: number, 
/**
 * Sessions ever registered.
 */
sessions: number, 
/**
 * Connections closed because the client's address is not allowed.
 */
refusedClients: number, 
/**
 * Failed username/password attempts.
 */
authFailures: number, 
/**
 * When counting began, in milliseconds since the Unix epoch.
 */
since: number, };

export type UdpStep = { status: "ok" | "failed" | "unsupported", millis: number | null, detail: string | null, };

export type UnwatchLiveArgs = { 
/**
 * The id of the channel that watched.
 */
channel: number, };

export type UpstreamTest = { hops: Array<Step>, target: Step, udp: UdpStep, };

export type UsageView = { running: boolean, owners: Array<OwnerRow>, };

export type UserEntry = { 
/**
 * The name the client sends.
 */
name: string, 
/**
 * Whether the user may log in.
 */
enabled: boolean, 
/**
 * What the user may do.
 */
policy: PolicyEntry, 
/**
 * Made as a guest pass (the Users page's Guest pass): listed as one,
 * and revoked from the page or the tray's Guest passes menu.
 */
guest: boolean, };

export type UserErrorKind = "keyring" | "unknownUser" | "duplicateName" | "notAGuest" | "noPassword" | "badName" | "badPassword" | "notSaved";

export type UserNameArgs = { name: string, };

export type UserRefusal = { kind: UserErrorKind, message: string, };

export type UserRow = { user: string | null, bytesUp: number, bytesDown: number, sessions: number, active: number, };

export type UserState = "active" | "disabled" | "expired";

export type UsersView = { users: Array<ListedUser>, keyringError: string | null, };

export type VisitPage = "setup" | "pac";

export type VisitRow = { 
/**
 * The device's address (an IPv4-mapped IPv6 address as IPv4).
 */
client: string, page: VisitPage, 
/**
 * What the device says it is (its `User-Agent`, control characters
 * replaced): untrusted text, which the window shows as text only.
 */
agent: string, 
/**
 * When it first fetched the page, in milliseconds since the Unix epoch.
 */
firstAt: number, 
/**
 * When it last did.
 */
lastAt: number, 
/**
 * How many times.
 */
count: number, };

export type WatchLiveArgs = { onMessage: Channel<LiveMessage>, };

export type Commands = {
  server_status: { args: Record<string, never>; result: ServerStatus; error: null };
  start_server: { args: Record<string, never>; result: ServerStatus; error: null };
  stop_server: { args: Record<string, never>; result: ServerStatus; error: null };
  get_settings: { args: Record<string, never>; result: SettingsView; error: null };
  save_settings: { args: SaveSettingsArgs; result: Saved; error: SaveRefused };
  list_users: { args: Record<string, never>; result: UsersView; error: null };
  add_user: { args: AddUserArgs; result: UsersView; error: UserRefusal };
  rename_user: { args: RenameUserArgs; result: UsersView; error: UserRefusal };
  set_password: { args: SetPasswordArgs; result: UsersView; error: UserRefusal };
  set_user_enabled: { args: SetUserEnabledArgs; result: UsersView; error: UserRefusal };
  delete_user: { args: UserNameArgs; result: UsersView; error: UserRefusal };
  set_user_policy: { args: SetUserPolicyArgs; result: UsersView; error: SaveRefused };
  add_guest_pass: { args: GuestPassRequest; result: NewGuestPass; error: SaveRefused };
  revoke_guest: { args: UserNameArgs; result: UsersView; error: UserRefusal };
  revoke_all_guests: { args: Record<string, never>; result: UsersView; error: UserRefusal };
  list_usage: { args: Record<string, never>; result: UsageView; error: null };
  read_logs: { args: ReadLogsArgs; result: Array<string>; error: null };
  qr_code: { args: TextArgs; result: string; error: Refused };
  copy_text: { args: TextArgs; result: null; error: Refused };
  test_upstream: { args: TestUpstreamArgs; result: UpstreamTest; error: Refused };
  watch_live: { args: WatchLiveArgs; result: null; error: null };
  unwatch_live: { args: UnwatchLiveArgs; result: null; error: null };
  close_session: { args: SessionIdArgs; result: boolean; error: null };
  close_all_sessions: { args: Record<string, never>; result: number; error: null };
  recent_visits: { args: Record<string, never>; result: Array<VisitRow>; error: null };
  list_mappings: { args: Record<string, never>; result: Array<MappingRow>; error: null };
  add_mapping: { args: AddMappingArgs; result: Array<MappingRow>; error: SaveRefused };
  edit_mapping: { args: EditMappingArgs; result: Array<MappingRow>; error: SaveRefused };
  remove_mapping: { args: MappingNameArgs; result: Array<MappingRow>; error: SaveRefused };
  set_mapping_enabled: { args: SetMappingEnabledArgs; result: Array<MappingRow>; error: SaveRefused };
  list_devices: { args: Record<string, never>; result: Array<DeviceEntry>; error: null };
  add_device: { args: AddDeviceArgs; result: Array<DeviceEntry>; error: SaveRefused };
  edit_device: { args: EditDeviceArgs; result: Array<DeviceEntry>; error: SaveRefused };
  remove_device: { args: DeviceNameArgs; result: Array<DeviceEntry>; error: SaveRefused };
  gssapi_available: { args: Record<string, never>; result: boolean; error: null };
  system_proxy_status: { args: Record<string, never>; result: SystemProxyStatus; error: null };
  set_system_proxy: { args: SetSystemProxyArgs; result: SystemProxyStatus; error: Refused };
  firewall_check: { args: Record<string, never>; result: FirewallCheck; error: null };
};

export type Events = {
  "status-changed": ServerStatus;
  "visits-changed": Array<VisitRow>;
  "users-changed": null;
  "system-proxy-changed": SystemProxyStatus;
};
