//! The client side of an upstream handshake, `UpstreamHop::authenticate`
//! then `request` (and BIND's second reply, `read_reply`), against a peer
//! that writes the fuzz bytes and then closes its sending side.
//!
//! Input: a byte choosing the hop's protocol (bits 0-1), credentials
//! (bits 2-3) and command (bits 4-7, modulo 3), a byte choosing the target,
//! then the upstream's bytes.
//!
//! Checks: no panic; the calls end once the bytes run out (the clock is
//! paused, so a call that would wait forever shows at once); an error never
//! shows the hop's password; and on success the hop read exactly the
//! upstream's replies (the bytes after them stay in the stream for the
//! relay), took the bound address from them, and sent a request that the
//! server-side decoder reads as the command and target asked for.
#![no_main]
use std::net::SocketAddr;
use std::time::Duration;

use libfuzzer_sys::fuzz_target;
use proxy_core::outbound::hop::{HopCredentials, HopError, HopProtocol, UpstreamHop};
use proxy_core::protocol::socks5::{self, Command, ReplyMessage};
use proxy_core::protocol::{socks4, userpass, TargetAddr};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

const PASSWORD: &str = "s3cr3t-hop";

thread_local! {
    static RUNTIME: tokio::runtime::Runtime = tokio::runtime::Builder::new_current_thread()
        .enable_time()
        .start_paused(true)
        .build()
        .expect("a tokio runtime");
}

fn ip(text: &str) -> TargetAddr {
    TargetAddr::Ip(text.parse::<SocketAddr>().expect("a socket address"))
}

fuzz_target!(|data: &[u8]| {
    let [mode, pick, upstream @ ..] = data else {
        return;
    };
    let protocol =
        [HopProtocol::Socks5, HopProtocol::Socks4a, HopProtocol::Socks4, HopProtocol::Socks5]
            [usize::from(mode & 3)];
    let credentials = match (mode >> 2) & 3 {
        0 => HopCredentials::None,
        1 => HopCredentials::Password { user: "alice".into(), password: PASSWORD.into() },
        2 => HopCredentials::PasswordElsewhere { user: "carol".into() },
        _ => HopCredentials::UserId("bob".into()),
    };
    let command =
        [Command::Connect, Command::Bind, Command::UdpAssociate][usize::from(mode >> 4) % 3];
    let mut target = match pick % 6 {
        0 => ip("192.0.2.1:80"),
        1 => ip("[2001:db8::1]:443"),
        2 => TargetAddr::Domain("example.test".into(), 443),
        3 => ip("[::ffff:192.0.2.7]:22"),
        4 => TargetAddr::Domain("x.blocked.test\0.ok".into(), 80),
        _ => TargetAddr::Domain("localhost".into(), 8080),
    };
    if let TargetAddr::Domain(name, port) = target.clone() {
        // A SOCKS4 hop looks names up here: only "localhost", which needs
        // no DNS server, is left to it.
        if protocol == HopProtocol::Socks4 && !name.contains('\0') {
            target = TargetAddr::Domain("localhost".into(), port);
        }
        // A name holding NUL is refused by the SOCKS4 hops; the SOCKS5 hop
        // sends it as it is. Clients cannot make the server ask for one
        // (its decoders refuse such names), a hop URL's host can.
        if protocol == HopProtocol::Socks5 && name.contains('\0') {
            target = TargetAddr::Domain("nul.example.test".into(), port);
        }
    }
    let hop = UpstreamHop { protocol, host: "hop.test".into(), port: 1080, credentials };
    RUNTIME.with(|runtime| runtime.block_on(run(&hop, command, &target, upstream)));
});

async fn run(hop: &UpstreamHop, command: Command, target: &TargetAddr, upstream: &[u8]) {
    let (mut ours, theirs) = tokio::io::duplex(64 * 1024);
    let (mut their_read, mut their_write) = tokio::io::split(theirs);
    let peer_writes = async {
        let _ = their_write.write_all(upstream).await;
        let _ = their_write.shutdown().await;
    };
    let peer_reads = async {
        let mut sent = Vec::new();
        let _ = their_read.read_to_end(&mut sent).await;
        sent
    };
    let client = async move {
        let calls = async {
            hop.authenticate(&mut ours).await?;
            let bound = hop.request(&mut ours, command, target).await?;
            let second = match command {
                Command::Bind => Some(hop.read_reply(&mut ours).await?),
                _ => None,
            };
            Ok::<_, HopError>((bound, second))
        };
        // Far longer than anything here takes: with the clock paused it
        // passes at once when every task waits.
        let outcome = tokio::time::timeout(Duration::from_secs(3600), calls).await;
        let mut rest = Vec::new();
        if matches!(outcome, Ok(Ok(_))) {
            ours.read_to_end(&mut rest).await.expect("a duplex stream reads to its end");
        }
        (outcome, rest)
    };
    let ((), sent, (outcome, rest)) = tokio::join!(peer_writes, peer_reads, client);
    let Ok(result) = outcome else {
        panic!("the handshake did not end after the upstream's {} bytes ran out", upstream.len());
    };
    match result {
        Err(error) => {
            let _ = error.kind();
            let shown = format!("{error} {error:?}");
            assert!(!shown.contains(PASSWORD), "the error shows the password: {shown}");
        }
        Ok((bound, second)) => {
            check_success(hop, command, target, upstream, &sent, &rest, &bound, second.as_ref())
        }
    }
}

/// After a successful handshake: what the hop read, took and sent.
#[allow(clippy::too_many_arguments)]
fn check_success(
    hop: &UpstreamHop,
    command: Command,
    target: &TargetAddr,
    upstream: &[u8],
    sent: &[u8],
    rest: &[u8],
    bound: &TargetAddr,
    second: Option<&TargetAddr>,
) {
    let mut read = 0;
    let mut wrote = 0;
    if hop.protocol == HopProtocol::Socks5 {
        let (method, used) = socks5::decode_method_selection(&upstream[read..])
            .expect("a method selection")
            .expect("a whole method selection");
        read += used;
        let (greeting, used) = socks5::Greeting::decode(&sent[wrote..])
            .expect("our greeting decodes")
            .expect("our greeting is whole");
        assert_eq!(greeting.methods, [method], "the hop went on with a method it did not offer");
        wrote += used;
        if let HopCredentials::Password { user, password } = &hop.credentials {
            let (ok, used) = userpass::decode_status(&upstream[read..])
                .expect("a status")
                .expect("a whole status");
            assert!(ok, "the hop went on after its password was rejected");
            read += used;
            let (creds, used) = userpass::Credentials::decode(&sent[wrote..])
                .expect("our credentials decode")
                .expect("our credentials are whole");
            assert_eq!((creds.username, creds.password), (user.as_bytes(), password.as_bytes()));
            wrote += used;
        }
        let (request, used) = socks5::Request::decode(&sent[wrote..])
            .expect("our request decodes")
            .expect("our request is whole");
        assert_eq!((request.command, &request.target), (command, target));
        wrote += used;
        for expected in std::iter::once(bound).chain(second) {
            let (reply, used) =
                ReplyMessage::decode(&upstream[read..]).expect("a reply").expect("a whole reply");
            assert_eq!(reply.reply, socks5::Reply::Succeeded, "the hop went on after a refusal");
            assert_eq!(&reply.bound, expected, "the bound address is not the reply's");
            read += used;
        }
    } else {
        assert_ne!(command, Command::UdpAssociate, "a SOCKS4 hop cannot carry UDP");
        let (request, used) = socks4::Request::decode(&sent[wrote..])
            .expect("our SOCKS4 request decodes")
            .expect("our SOCKS4 request is whole");
        let carried = match target {
            TargetAddr::Ip(addr) => {
                TargetAddr::Ip(SocketAddr::new(addr.ip().to_canonical(), addr.port()))
            }
            TargetAddr::Domain(_, port) if hop.protocol == HopProtocol::Socks4 => {
                TargetAddr::Ip(SocketAddr::new([127, 0, 0, 1].into(), *port))
            }
            domain => domain.clone(),
        };
        assert_eq!(request.target, carried);
        assert_eq!(request.user_id, hop.credentials.user().unwrap_or("").as_bytes());
        wrote += used;
        for expected in std::iter::once(bound).chain(second) {
            let (reply, used) = socks4::Reply::decode(&upstream[read..])
                .expect("a SOCKS4 reply")
                .expect("a whole SOCKS4 reply");
            assert_eq!(reply.status, socks4::Status::Granted, "the hop went on after a refusal");
            assert_eq!(expected, &TargetAddr::Ip(reply.addr.into()));
            read += used;
        }
    }
    assert_eq!(wrote, sent.len(), "the hop sent more than its messages: {sent:02x?}");
    assert_eq!(
        rest,
        &upstream[read..],
        "the hop read {} bytes, its replies are {read}",
        upstream.len() - rest.len()
    );
}
