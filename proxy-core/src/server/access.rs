//! Per-user and per-device policy, applied: a request is admitted only if
//! the policy of its user (a verified one) and the policy of its device
//! (the first `[[devices]]` entry whose address covers the client) both
//! allow it, so the stricter wins; refusals say whose rule refused and
//! why. Running sessions are checked again every second
//! ([`sweep`]): one that a window closing, an expiry, or a changed
//! configuration no longer allows ends then.

use std::borrow::Cow;
use std::net::IpAddr;
use std::sync::Arc;
use std::time::Duration;

use ipnet::IpNet;
use serde::Serialize;
use tokio_util::sync::CancellationToken;
use tracing::{info, warn};

use super::guard::Shaping;
use super::settings::Settings;
use super::Shared;
use crate::access::{CommandName, Now, Period, Policy, Quota, TargetCheck};
use crate::monitor::{Activity, Monitor, NewSession, SessionUser};
use crate::policy::TargetPolicy;
use crate::protocol::socks5::Command;
use crate::protocol::TargetAddr;
use crate::quota::{QuotaMeter, QuotaUsage, Quotas};
use crate::refusal::Refusal;
use crate::shaping::Shaper;

/// How often running sessions are checked against the policies.
const SWEEP_EVERY: Duration = Duration::from_secs(1);

/// One policy that applies to a session, and whose it is.
struct Subject<'a> {
    /// "user guest", "device 192.168.1.23/32".
    label: String,
    policy: &'a Policy,
    /// Whether an open session belongs to this subject.
    owns: Owner<'a>,
}

#[derive(Clone, Copy)]
enum Owner<'a> {
    User(&'a str),
    Device(&'a crate::policy::ClientRule),
}

impl Subject<'_> {
    fn is_device(&self) -> bool {
        matches!(self.owns, Owner::Device(_))
    }
}

impl Owner<'_> {
    fn owns(self, session: &NewSession) -> bool {
        match self {
            Owner::User(name) => session.user.verified() == Some(name),
            Owner::Device(rule) => rule.admits(session.client.ip()),
        }
    }
}

/// The policies that apply to a client at `client` logged in as `user`.
fn subjects<'a>(settings: &'a Settings, user: &'a SessionUser, client: IpAddr) -> Vec<Subject<'a>> {
    let mut subjects = Vec::new();
    if let Some(name) = user.verified() {
        let auth = &settings.config.auth;
        let policy = auth
            .users
            .iter()
            .find(|u| u.name == name)
            .map(|u| &u.policy)
            .or_else(|| auth.policies.iter().find(|p| p.name == name).map(|p| &p.policy));
        if let Some(policy) = policy.filter(|p| !p.is_empty()) {
            subjects.push(Subject {
                label: format!("user {name}"),
                policy,
                owns: Owner::User(name),
            });
        }
    }
    if let Some(device) = settings.config.devices.iter().find(|d| d.address.admits(client)) {
        if !device.policy.is_empty() {
            subjects.push(Subject {
                label: format!("device {}", device.label()),
                policy: &device.policy,
                owns: Owner::Device(&device.address),
            });
        }
    }
    subjects
}

/// The rate limits a session of `user` from `client` passes: the
/// server's, its user's and its device's; `None` when none applies.
pub(super) fn shaper(
    settings: &Settings,
    shaping: &Shaping,
    user: &SessionUser,
    client: IpAddr,
) -> Option<Shaper> {
    if !settings.shaped {
        return None;
    }
    let mut limits = Vec::new();
    let subjects = subjects(settings, user, client);
    if let Some(rate) = settings.config.limits.rate_limit {
        // Shared fairly between owners: the user, else the device's entry,
        // else the client's address.
        let owner: Arc<str> = match (user.verified(), subjects.iter().find(|s| s.is_device())) {
            (Some(name), _) => format!("user {name}").into(),
            (None, Some(device)) => device.label.as_str().into(),
            (None, None) => format!("client {}", client.to_canonical()).into(),
        };
        limits.push((shaping.limit("server", rate), Some(owner)));
    }
    for subject in &subjects {
        if let Some(rate) = subject.policy.rate_limit {
            limits.push((shaping.limit(&subject.label, rate), None));
        }
    }
    Shaper::of(limits)
}

/// The meters the bytes of a session of `user` from `client` count
/// against: its user's (a verified one) and its device's (the first
/// `[[devices]]` entry that covers it), with a policy or not, so the app
/// can show everyone's use. A session with neither counts nowhere else.
pub(super) fn quota_meters(
    settings: &Settings,
    quotas: &Quotas,
    user: &SessionUser,
    client: IpAddr,
) -> Vec<Arc<QuotaMeter>> {
    let device = settings.config.devices.iter().find(|d| d.address.admits(client));
    if user.verified().is_none() && device.is_none() {
        return Vec::new();
    }
    let now = jiff::ZonedDateTime::now();
    let user = user.verified().map(|name| quotas.meter(&format!("user {name}"), &now));
    let device = device.map(|d| quotas.meter(&format!("device {}", d.label()), &now));
    user.into_iter().chain(device).collect()
}

/// Why `subject` is over its quota, if it is.
fn over_quota(quotas: &Quotas, subject: &Subject<'_>) -> Option<String> {
    let quota = subject.policy.quota?;
    let used = quotas.meter(&subject.label, &jiff::ZonedDateTime::now()).used(quota.period);
    quota_refusal(quota, used)
}

/// Why `used` bytes are over `quota`, if they are.
fn quota_refusal(quota: Quota, used: u64) -> Option<String> {
    (used >= quota.bytes).then(|| {
        let during = match quota.period {
            Period::Total => "in all".to_owned(),
            period => format!("this {}", period.as_str()),
        };
        format!("over its quota of {quota} ({:.1} MB used {during})", used as f64 / 1e6)
    })
}

/// One user's or device's use and what its policy makes of it now.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct OwnerUse {
    /// "user NAME" or "device NAME" (a device's name, else its address).
    pub owner: String,
    /// The bytes it moved today, this week, this month and in all.
    #[serde(flatten)]
    pub usage: QuotaUsage,
    /// Its quota and the bytes counted against it.
    pub quota: Option<QuotaUse>,
    /// Its rate limit, bytes per second each direction.
    pub rate_limit: Option<u64>,
    /// Why a new request of it would be refused now (outside its hours,
    /// over its quota, expired), if one would.
    pub refused: Option<String>,
}

/// A quota and the bytes counted against it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct QuotaUse {
    /// The bytes allowed in one period.
    pub bytes: u64,
    /// "day", "week", "month" or "total".
    pub period: Period,
    /// Bytes counted in the current period.
    pub used: u64,
}

/// Every user's and device's use: those with a policy, and those counted
/// since the start or read from the state file, by owner.
pub(super) fn owner_uses(settings: &Settings, quotas: &Quotas) -> Vec<OwnerUse> {
    let now = Now::read();
    let mut usage: std::collections::BTreeMap<String, QuotaUsage> = quotas
        .usage(&jiff::ZonedDateTime::now())
        .into_iter()
        .map(|u| (u.owner.clone(), u))
        .collect();
    let auth = &settings.config.auth;
    let users = auth.users.iter().map(|u| (u.name.as_str(), &u.policy));
    let named = auth.policies.iter().map(|p| (p.name.as_str(), &p.policy));
    let mut policies: Vec<(String, &Policy)> =
        users.chain(named).map(|(name, policy)| (format!("user {name}"), policy)).collect();
    for device in &settings.config.devices {
        policies.push((format!("device {}", device.label()), &device.policy));
    }
    let mut uses = Vec::new();
    for (owner, policy) in policies {
        if uses.iter().any(|u: &OwnerUse| u.owner == owner) {
            continue;
        }
        let usage = usage.remove(&owner).unwrap_or_else(|| QuotaUsage {
            owner: owner.clone(),
            today: 0,
            this_week: 0,
            this_month: 0,
            total: 0,
        });
        let quota = policy.quota.map(|q| QuotaUse {
            bytes: q.bytes,
            period: q.period,
            used: usage.used(q.period),
        });
        let refused = policy.refuses_now(&now).or_else(|| {
            let quota = policy.quota?;
            quota_refusal(quota, usage.used(quota.period))
        });
        uses.push(OwnerUse {
            owner,
            usage,
            quota,
            rate_limit: policy.rate_limit.map(|r| r.0),
            refused,
        });
    }
    uses.extend(usage.into_values().map(|usage| OwnerUse {
        owner: usage.owner.clone(),
        usage,
        quota: None,
        rate_limit: None,
        refused: None,
    }));
    uses.sort_by(|a, b| a.owner.cmp(&b.owner));
    uses
}

/// Whether the destination rules of a user's or a device's policy apply
/// to a client at `client` logged in as `user` (each of its datagrams is
/// then checked against them).
pub(super) fn checks_targets(settings: &Settings, user: &SessionUser, client: IpAddr) -> bool {
    subjects(settings, user, client)
        .iter()
        .any(|s| s.policy.allow_targets.is_some() || !s.policy.deny_targets.is_empty())
}

/// Whether any user or device has a policy (else nothing here runs).
pub(super) fn any_policy(settings: &Settings) -> bool {
    let auth = &settings.config.auth;
    auth.users.iter().any(|u| !u.policy.is_empty())
        || auth.policies.iter().any(|p| !p.policy.is_empty())
        || settings.config.devices.iter().any(|d| !d.policy.is_empty())
}

/// What a request may do once admitted: the destination policy its
/// addresses are checked against (the server's, narrowed by the user's
/// and the device's address rules for a name).
pub(super) type Admitted<'a> = Cow<'a, TargetPolicy>;

/// Admits a request, or says why not. `target` is normalized; for UDP
/// ASSOCIATE (whose target is the client's own address) and a BIND for any
/// peer, destinations are checked per datagram or not at all.
pub(super) fn admit<'a>(
    settings: &'a Settings,
    quotas: &Quotas,
    monitor: &Monitor,
    user: &SessionUser,
    client: IpAddr,
    command: Command,
    target: &TargetAddr,
) -> Result<Admitted<'a>, Refusal> {
    let subjects = subjects(settings, user, client);
    if subjects.is_empty() {
        return Ok(Cow::Borrowed(&settings.targets));
    }
    let now = Now::read();
    let checks_target = match (command, target) {
        (Command::UdpAssociate, _) => false,
        (Command::Bind, TargetAddr::Ip(addr)) => !addr.ip().is_unspecified(),
        _ => true,
    };
    let (mut deny, mut allow) = (Vec::new(), Vec::new());
    for subject in &subjects {
        let refuse = |why: String| Refusal::not_allowed(format!("{}: {why}", subject.label));
        let policy = subject.policy;
        if let Some(why) = policy.refuses_now(&now) {
            return Err(refuse(why));
        }
        if let Some(why) = policy.refuses_command(CommandName::from(command)) {
            return Err(refuse(why));
        }
        if checks_target {
            narrow(policy, target, &mut deny, &mut allow).map_err(refuse)?;
        }
        if let Some(why) = over_quota(quotas, subject) {
            return Err(refuse(why));
        }
        if let Some(most) = policy.max_sessions {
            // The request is registered already: it counts itself.
            let open = monitor.count_open(|session| subject.owns.owns(session));
            if open > most {
                return Err(refuse(format!("has {most} sessions open, its most")));
            }
        }
    }
    if deny.is_empty() && allow.is_empty() {
        return Ok(Cow::Borrowed(&settings.targets));
    }
    Ok(Cow::Owned(settings.targets.restricted(&deny, &allow)))
}

/// Adds what `policy`'s destination rules say of `target` to the ranges
/// its addresses must avoid and be in; the reason when it is refused.
fn narrow(
    policy: &Policy,
    target: &TargetAddr,
    deny: &mut Vec<IpNet>,
    allow: &mut Vec<Vec<IpNet>>,
) -> Result<(), String> {
    match policy.check_target(target) {
        TargetCheck::Refused(why) => Err(why),
        TargetCheck::Allowed { deny: nets, allow: only } => {
            deny.extend(nets);
            allow.extend(only);
            Ok(())
        }
    }
}

/// Whether a datagram of a UDP association may go to `target`
/// (normalized), and with which destination policy for its addresses.
pub(super) fn admit_datagram<'a>(
    settings: &'a Settings,
    user: &SessionUser,
    client: IpAddr,
    target: &TargetAddr,
) -> Result<Admitted<'a>, String> {
    let subjects = subjects(settings, user, client);
    let (mut deny, mut allow) = (Vec::new(), Vec::new());
    for subject in &subjects {
        narrow(subject.policy, target, &mut deny, &mut allow)
            .map_err(|why| format!("{}: {why}", subject.label))?;
    }
    if deny.is_empty() && allow.is_empty() {
        return Ok(Cow::Borrowed(&settings.targets));
    }
    Ok(Cow::Owned(settings.targets.restricted(&deny, &allow)))
}

/// Why a running session is no longer allowed by the policies of
/// `settings`, if it is not.
fn disallows(
    settings: &Settings,
    quotas: &Quotas,
    session: &NewSession,
    now: &Now,
) -> Option<String> {
    let command = match session.command {
        Activity::Connect | Activity::Forward => Command::Connect,
        Activity::Bind => Command::Bind,
        Activity::UdpAssociate => Command::UdpAssociate,
    };
    for subject in subjects(settings, &session.user, session.client.ip()) {
        let policy = subject.policy;
        let why = policy.refuses_now(now).or_else(|| policy.refuses_command(command.into()));
        let why = why.or_else(|| over_quota(quotas, &subject));
        let why = why.or_else(|| {
            let checks = matches!(command, Command::Connect);
            let target = session.target.parse::<TargetAddr>().ok().filter(|_| checks)?;
            match policy.check_target(&target.normalized()) {
                TargetCheck::Refused(why) => Some(why),
                TargetCheck::Allowed { .. } => None,
            }
        });
        if let Some(why) = why {
            return Some(format!("{}: {why}", subject.label));
        }
    }
    None
}

/// Checks the running sessions every second until `stop`, and ends those
/// the policies in force no longer allow (a window closed, a user expired,
/// a rule changed).
pub(super) async fn sweep(shared: Arc<Shared>, stop: CancellationToken) {
    let mut every = tokio::time::interval(SWEEP_EVERY);
    every.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let quotas = &shared.guard.quotas;
    let mut last_save = tokio::time::Instant::now();
    loop {
        tokio::select! {
            () = stop.cancelled() => return,
            _ = every.tick() => {}
        }
        if last_save.elapsed() >= crate::quota::SAVE_EVERY {
            last_save = tokio::time::Instant::now();
            let quotas = Arc::clone(quotas);
            // Off the async workers: the write waits for the disk.
            let saved = tokio::task::spawn_blocking(move || quotas.save_if_changed()).await;
            if let Ok(Err(e)) = saved {
                warn!("cannot save the quota counts: {e}");
            }
        }
        let settings = shared.settings.load_full();
        if !any_policy(&settings) {
            continue;
        }
        let now = Now::read();
        let mut ending = Vec::new();
        shared.monitor.for_each_open(|id, session| {
            if let Some(why) = disallows(&settings, quotas, session, &now) {
                ending.push((id, session.client, why));
            }
        });
        for (id, client, why) in ending {
            if shared.monitor.close(id) {
                info!(id, peer = %client, "session ended: {why}");
            }
        }
    }
}
