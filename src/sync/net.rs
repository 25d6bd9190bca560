//! The network transport: TCP, mutual TLS 1.3 with pinned device certificates, frames.
//!
//! Both sides present their certificate and prove they hold its key (the TLS handshake);
//! neither trusts a certificate authority. Right after the handshake each side looks the
//! other's fingerprint up in the organisation's device list: an unknown or revoked device is
//! refused before any data moves. The one exception is pairing, where a new laptop's first
//! message is `PairStart` and the code proves who it is (see [`super::pairing`]).
//!
//! Everything runs on one thread (the store is not shared between threads): callers use a
//! current-thread tokio runtime. [`serve`] still serves many connections at once: each
//! session is a future borrowing the one store, and they interleave only while waiting on
//! the network. A session's store work happens inside the sans-IO session's synchronous
//! calls, so no write transaction is ever open across an `.await` and writes stay serialised.
//!
//! A connection that has not yet shown who it is costs the server a socket and a TLS state
//! and nothing else: it must finish the handshake and say what it wants within
//! [`Admission::handshake_timeout`], and at most [`Admission::max_pending`] such connections
//! are kept; the oldest is closed to make room for a new one, so idle connections cannot
//! keep a real laptop out and a flood cannot use up memory or file descriptors.

use std::cell::RefCell;
use std::collections::VecDeque;
use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use futures_util::stream::{FuturesUnordered, StreamExt};
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::CryptoProvider;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer, ServerName, UnixTime};
use rustls::server::danger::{ClientCertVerified, ClientCertVerifier};
use rustls::{DigitallySignedStruct, DistinguishedName, SignatureScheme};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::oneshot;
use uuid::Uuid;

use super::identity::{CERT_NAME, fingerprint};
use super::pairing::{self, Pake};
use super::session::{Options, Progress, Report, Role, Session};
use super::wire::{
    self, Assembler, Limits, Msg, PROTOCOL_VERSION, PairStart, PairWelcome, Refusal, RefusalReason,
};
use super::{SyncError, add_device, ensure_identity};
use crate::store::{AuditEntry, Identity, LocalDevice, Store};

/// How long to wait for the other laptop at any one step before giving up.
pub const IO_TIMEOUT: Duration = Duration::from_secs(30);
/// The port hubdesk listens on unless told otherwise.
pub const DEFAULT_PORT: u16 = 47_810;
/// How long a new connection may take to finish the TLS handshake and send its first
/// message (a hello, or the start of pairing). A laptop needs milliseconds for this.
pub const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(5);
/// Connections that have not yet shown who they are, kept at once.
pub const MAX_PENDING: usize = 64;
/// Largest message a connection may send before it has shown who it is: a hello or a
/// pairing message is a few hundred bytes, and strangers must not make us hold megabytes.
const INTRO_LIMIT: usize = 64 << 10;
/// After the listener fails to accept (out of file descriptors, say), try again after this.
const ACCEPT_PAUSE: Duration = Duration::from_millis(100);

/// What `sync serve` lets a connection do before it has shown who it is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Admission {
    /// Time to finish the TLS handshake and send a hello or the start of pairing.
    pub handshake_timeout: Duration,
    /// Connections still at that stage (or pairing) kept at once; past it the oldest is closed.
    pub max_pending: usize,
}

impl Default for Admission {
    fn default() -> Self {
        Self {
            handshake_timeout: HANDSHAKE_TIMEOUT,
            max_pending: MAX_PENDING,
        }
    }
}

/// Bytes and messages that crossed the network in one session.
#[derive(Debug, Clone, Copy, Default, PartialEq, serde::Serialize)]
pub struct Traffic {
    pub bytes_sent: u64,
    pub bytes_received: u64,
    pub messages_sent: u64,
    pub messages_received: u64,
}

/// A finished session as seen from this laptop.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Outcome {
    pub peer: Uuid,
    pub peer_name: String,
    pub report: Report,
    pub traffic: Traffic,
}

fn provider() -> Arc<CryptoProvider> {
    Arc::new(rustls::crypto::ring::default_provider())
}

/// Accepts any certificate whose holder proves its key in the handshake; the fingerprint is
/// checked against the organisation's devices right after (see the module docs).
#[derive(Debug)]
struct ProvenKey(Arc<CryptoProvider>);

impl ProvenKey {
    fn tls13(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(
            message,
            cert,
            dss,
            &self.0.signature_verification_algorithms,
        )
    }
}

/// The handshake-signature methods both verifier traits require, alike for both sides.
macro_rules! signature_checks {
    () => {
        fn verify_tls12_signature(
            &self,
            _message: &[u8],
            _cert: &CertificateDer<'_>,
            _dss: &DigitallySignedStruct,
        ) -> Result<HandshakeSignatureValid, rustls::Error> {
            Err(rustls::Error::General("hubdesk only speaks TLS 1.3".into()))
        }

        fn verify_tls13_signature(
            &self,
            message: &[u8],
            cert: &CertificateDer<'_>,
            dss: &DigitallySignedStruct,
        ) -> Result<HandshakeSignatureValid, rustls::Error> {
            self.tls13(message, cert, dss)
        }

        fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
            self.0.signature_verification_algorithms.supported_schemes()
        }
    };
}

impl ServerCertVerifier for ProvenKey {
    fn verify_server_cert(
        &self,
        _end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp_response: &[u8],
        _now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        Ok(ServerCertVerified::assertion())
    }

    signature_checks!();
}

impl ClientCertVerifier for ProvenKey {
    fn offer_client_auth(&self) -> bool {
        true
    }

    fn client_auth_mandatory(&self) -> bool {
        true
    }

    fn root_hint_subjects(&self) -> &[DistinguishedName] {
        &[]
    }

    fn verify_client_cert(
        &self,
        _end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _now: UnixTime,
    ) -> Result<ClientCertVerified, rustls::Error> {
        Ok(ClientCertVerified::assertion())
    }

    signature_checks!();
}

fn tls_err(e: impl std::fmt::Display) -> SyncError {
    SyncError::Setup(format!("could not set up a secure connection: {e}"))
}

fn cert_and_key(identity: &Identity) -> (Vec<CertificateDer<'static>>, PrivateKeyDer<'static>) {
    (
        vec![CertificateDer::from(identity.cert.clone())],
        PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(identity.key.clone())),
    )
}

fn server_config(identity: &Identity) -> Result<Arc<rustls::ServerConfig>, SyncError> {
    let provider = provider();
    let (certs, key) = cert_and_key(identity);
    let config = rustls::ServerConfig::builder_with_provider(provider.clone())
        .with_protocol_versions(&[&rustls::version::TLS13])
        .map_err(tls_err)?
        .with_client_cert_verifier(Arc::new(ProvenKey(provider)))
        .with_single_cert(certs, key)
        .map_err(tls_err)?;
    Ok(Arc::new(config))
}

fn client_config(identity: &Identity) -> Result<Arc<rustls::ClientConfig>, SyncError> {
    let provider = provider();
    let (certs, key) = cert_and_key(identity);
    let config = rustls::ClientConfig::builder_with_provider(provider.clone())
        .with_protocol_versions(&[&rustls::version::TLS13])
        .map_err(tls_err)?
        .dangerous()
        .with_custom_certificate_verifier(Arc::new(ProvenKey(provider)))
        .with_client_auth_cert(certs, key)
        .map_err(tls_err)?;
    Ok(Arc::new(config))
}

async fn timed<T>(
    what: &str,
    f: impl std::future::Future<Output = std::io::Result<T>>,
) -> Result<T, SyncError> {
    match tokio::time::timeout(IO_TIMEOUT, f).await {
        Ok(Ok(v)) => Ok(v),
        Ok(Err(e)) if e.kind() == std::io::ErrorKind::UnexpectedEof => Err(SyncError::Network(
            format!("the other laptop closed the connection ({what})"),
        )),
        Ok(Err(e)) => Err(SyncError::Network(format!("{what}: {e}"))),
        Err(_) => Err(SyncError::Network(format!(
            "the other laptop stopped answering ({what})"
        ))),
    }
}

/// Messages over a byte stream, counted.
pub struct Framed<S> {
    stream: S,
    limits: Limits,
    assembler: Assembler,
    pub traffic: Traffic,
}

impl<S: AsyncRead + AsyncWrite + Unpin> Framed<S> {
    pub fn new(stream: S, limits: Limits) -> Self {
        Self {
            stream,
            limits,
            assembler: Assembler::default(),
            traffic: Traffic::default(),
        }
    }

    pub async fn send(&mut self, msg: &Msg) -> Result<(), SyncError> {
        for frame in wire::encode(msg, &self.limits)? {
            timed("sending", self.stream.write_all(&frame)).await?;
            self.traffic.bytes_sent += frame.len() as u64;
        }
        timed("sending", self.stream.flush()).await?;
        self.traffic.messages_sent += 1;
        Ok(())
    }

    pub async fn recv(&mut self) -> Result<Msg, SyncError> {
        loop {
            let mut len = [0u8; 4];
            timed("receiving", self.stream.read_exact(&mut len)).await?;
            let n = Assembler::check_length(u32::from_be_bytes(len), &self.limits)?;
            let mut payload = vec![0u8; n];
            timed("receiving", self.stream.read_exact(&mut payload)).await?;
            self.traffic.bytes_received += 4 + n as u64;
            if let Some(msg) = self.assembler.push(&payload, &self.limits)? {
                self.traffic.messages_received += 1;
                return Ok(msg);
            }
        }
    }

    pub async fn close(&mut self) {
        let _ = tokio::time::timeout(Duration::from_secs(2), self.stream.shutdown()).await;
    }

    pub fn get_ref(&self) -> &S {
        &self.stream
    }

    /// The raw stream (tests write malformed bytes through it).
    pub fn get_mut(&mut self) -> &mut S {
        &mut self.stream
    }
}

/// The paired device a certificate belongs to, or why it is refused.
fn trusted_device(store: &Store, cert_fp: &str) -> Result<(Uuid, String), SyncError> {
    let devices = store.devices()?;
    // A join cut short: no device list yet, only the laptop pinned during pairing, which
    // sends the list (and its own name) in this session.
    if store.org()?.is_none()
        && let Some(peer) = store.pinned_peer(cert_fp)?
    {
        return Ok((peer, String::new()));
    }
    match devices
        .iter()
        .find(|d| d.cert_sha256.as_deref() == Some(cert_fp))
    {
        Some(d) if d.revoked_at.is_some() => Err(SyncError::refused(
            RefusalReason::Revoked,
            format!(
                "the laptop \"{}\" has been removed from the organisation",
                d.name
            ),
        )),
        Some(d) => Ok((d.id, d.name.clone())),
        None => Err(SyncError::refused(
            RefusalReason::NotPaired,
            "the other laptop is not paired with this organisation; pair it first (hubdesk sync pair-code / sync join)",
        )),
    }
}

/// The removed laptop a certificate belongs to, if it is one.
fn removed_device(store: &Store, cert_fp: &str) -> Option<Uuid> {
    store.devices().ok()?.into_iter().find_map(|d| {
        (d.cert_sha256.as_deref() == Some(cert_fp) && d.revoked_at.is_some()).then_some(d.id)
    })
}

/// Tells a removed laptop so, with the organisation's record (no member's data in it) as
/// the proof it needs: it forgets only if its own entry there is revoked
/// ([`super::removal`]). Noted in the audit log as told. Best effort: a laptop that does not
/// hear it now hears at its next try.
async fn tell_removed<S: AsyncRead + AsyncWrite + Unpin>(
    store: &Store,
    now: DateTime<Utc>,
    framed: &mut Framed<S>,
    device: Uuid,
    limits: Limits,
) {
    let Ok(Some(me)) = store.local_device() else {
        return;
    };
    let Ok(Some(org)) = store.doc_bytes(me.org_id) else {
        return;
    };
    // The record can be larger than an introduction may be.
    framed.limits = limits;
    if framed.send(&Msg::Revoked(org)).await.is_ok() {
        let told = AuditEntry {
            at: now,
            user: None,
            action: super::removal::TOLD_AUDIT,
            subject: Some(device),
            detail: Some("told it that it was removed from the organisation".into()),
        };
        if let Err(e) = store.append_audit(&[told]) {
            tracing::warn!(error = %e, "telling a removed laptop was not noted in the audit log");
        }
    }
}

fn peer_fingerprint(certs: Option<&[CertificateDer<'_>]>) -> Result<String, SyncError> {
    certs
        .and_then(|c| c.first())
        .map(|c| fingerprint(c.as_ref()))
        .ok_or_else(|| SyncError::refused(RefusalReason::NotPaired, "no certificate was shown"))
}

/// Runs a session over an established connection until it finishes; on an error, tells the
/// peer why (best effort) and returns the error.
/// `on_progress` hears how far it is after every message handled.
async fn drive<S: AsyncRead + AsyncWrite + Unpin>(
    framed: &mut Framed<S>,
    session: &mut Session<'_>,
    first: Option<Msg>,
    on_progress: &dyn Fn(&Progress),
) -> Result<(), SyncError> {
    let result: Result<(), SyncError> = async {
        let mut outgoing = match first {
            Some(m) => session.handle(m)?,
            None => session.start()?,
        };
        loop {
            on_progress(&session.progress());
            for m in &outgoing {
                framed.send(m).await?;
            }
            if session.is_finished() {
                return Ok(());
            }
            let incoming = framed.recv().await?;
            outgoing = session.handle(incoming)?;
        }
    }
    .await;
    if let Err(e) = &result {
        on_progress(&Progress {
            ended: true,
            ..session.progress()
        });
        if !matches!(e, SyncError::Network(_)) && !is_peer_refusal(e) {
            let _ = framed.send(&Session::refusal_for(e)).await;
        }
        framed.close().await;
    }
    result
}

fn is_peer_refusal(e: &SyncError) -> bool {
    matches!(e, SyncError::Refused { .. })
}

/// A TLS connection to the laptop at `addr`, checked against the organisation's devices.
pub async fn connect(
    store: &Store,
    now: DateTime<Utc>,
    addr: &str,
    limits: Limits,
) -> Result<
    (
        Framed<tokio_rustls::client::TlsStream<TcpStream>>,
        Uuid,
        String,
    ),
    SyncError,
> {
    let identity = ensure_identity(store, now)?;
    let tcp = connect_tcp(addr).await?;
    let connector = tokio_rustls::TlsConnector::from(client_config(&identity)?);
    let name = ServerName::try_from(CERT_NAME).map_err(tls_err)?;
    let tls = timed("securing the connection", connector.connect(name, tcp)).await?;
    let fp = peer_fingerprint(tls.get_ref().1.peer_certificates())?;
    let (peer, peer_name) = match trusted_device(store, &fp) {
        Ok(found) => found,
        Err(e) => {
            if let Some(removed) = removed_device(store, &fp) {
                let mut framed = Framed::new(tls, limits);
                tell_removed(store, now, &mut framed, removed, limits).await;
                framed.close().await;
            }
            return Err(e);
        }
    };
    // Our own certificate is in the device list, so our own port passes the check above;
    // a session with ourselves would record this laptop as its own peer.
    if store.local_device()?.is_some_and(|me| me.id == peer) {
        return Err(SyncError::Address(format!(
            "{} is this laptop itself: give the address of another laptop of the organisation",
            addr.trim()
        )));
    }
    Ok((Framed::new(tls, limits), peer, peer_name))
}

/// Syncs once with the laptop at `addr`.
pub async fn sync_with(
    store: &Store,
    now: DateTime<Utc>,
    addr: &str,
    options: Options,
    limits: Limits,
) -> Result<Outcome, SyncError> {
    sync_with_reporting(store, now, addr, options, limits, &|_| {}).await
}

/// [`sync_with`], telling `on_progress` how far it is as it goes.
pub async fn sync_with_reporting(
    store: &Store,
    now: DateTime<Utc>,
    addr: &str,
    options: Options,
    limits: Limits,
    on_progress: &dyn Fn(&Progress),
) -> Result<Outcome, SyncError> {
    let (mut framed, peer, peer_name) = connect(store, now, addr, limits).await?;
    let mut session = Session::new(store, now, Role::Initiator, peer, options)?;
    let result = drive(&mut framed, &mut session, None, on_progress).await;
    finish(
        store,
        now,
        peer,
        peer_name,
        Some(addr),
        result,
        &session,
        &framed,
    )
    .await
}

#[allow(clippy::too_many_arguments)]
async fn finish<S: AsyncRead + AsyncWrite + Unpin>(
    store: &Store,
    now: DateTime<Utc>,
    peer: Uuid,
    peer_name: String,
    addr: Option<&str>,
    result: Result<(), SyncError>,
    session: &Session<'_>,
    framed: &Framed<S>,
) -> Result<Outcome, SyncError> {
    match result {
        Ok(()) => {
            if let Some(addr) = addr {
                store.set_peer_address(peer, addr)?;
            }
            Ok(Outcome {
                peer,
                peer_name,
                report: session.report().clone(),
                traffic: framed.traffic,
            })
        }
        Err(e) => {
            let _ = store.record_sync_error(peer, &e.to_string(), now);
            Err(e)
        }
    }
}

async fn connect_tcp(addr: &str) -> Result<TcpStream, SyncError> {
    let addr = parse_address(addr)?;
    match tokio::time::timeout(Duration::from_secs(5), TcpStream::connect(&addr)).await {
        Ok(Ok(s)) => {
            let _ = s.set_nodelay(true);
            Ok(s)
        }
        Ok(Err(e)) => Err(SyncError::Network(format!("could not reach {addr}: {e}"))),
        Err(_) => Err(SyncError::Network(format!(
            "could not reach {addr} in time"
        ))),
    }
}

/// "host" becomes "host:47810".
pub fn with_default_port(addr: &str) -> String {
    let addr = addr.trim();
    if addr
        .rsplit_once(':')
        .is_some_and(|(_, p)| p.parse::<u16>().is_ok())
    {
        addr.to_string()
    } else {
        format!("{addr}:{DEFAULT_PORT}")
    }
}

/// A typed address to connect to, checked: "host" or "host:PORT" (PORT 1-65535), an IPv6
/// address bare or as "[addr]:PORT". The default port is added where none is given; a port
/// that is not a port is refused rather than read as part of the host.
pub fn parse_address(typed: &str) -> Result<String, SyncError> {
    let addr = typed.trim();
    let bad = |why: &str| {
        SyncError::Address(format!(
            "'{addr}' is not an address: {why} (for example 192.168.1.20 or 192.168.1.20:{DEFAULT_PORT})"
        ))
    };
    let port_ok = |p: &str| p.parse::<u16>().is_ok_and(|p| p > 0);
    if addr.is_empty() {
        return Err(SyncError::Address(format!(
            "an address is needed (for example 192.168.1.20 or 192.168.1.20:{DEFAULT_PORT})"
        )));
    }
    if addr.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err(bad("it has spaces in it"));
    }
    if let Some(rest) = addr.strip_prefix('[') {
        let (host, after) = rest
            .split_once(']')
            .ok_or_else(|| bad("a '[' has no ']'"))?;
        if host.parse::<std::net::Ipv6Addr>().is_err() {
            return Err(bad("what is inside [ ] is not an IPv6 address"));
        }
        return match after {
            "" => Ok(format!("[{host}]:{DEFAULT_PORT}")),
            _ => match after.strip_prefix(':') {
                Some(p) if port_ok(p) => Ok(addr.to_string()),
                _ => Err(bad("a port is a number from 1 to 65535")),
            },
        };
    }
    match addr.matches(':').count() {
        0 => Ok(format!("{addr}:{DEFAULT_PORT}")),
        1 => match addr.split_once(':') {
            Some((host, p)) if !host.is_empty() && port_ok(p) => Ok(addr.to_string()),
            Some(("", _)) => Err(bad("the part before ':' is empty")),
            _ => Err(bad("a port is a number from 1 to 65535")),
        },
        _ => match addr.parse::<std::net::Ipv6Addr>() {
            Ok(_) => Ok(format!("[{addr}]:{DEFAULT_PORT}")),
            Err(_) => Err(bad("it has more than one ':'")),
        },
    }
}

/// Joins this (empty) laptop to the organisation of the laptop at `addr`, with the pairing
/// code shown there, then receives everything.
pub async fn join(
    store: &Store,
    now: DateTime<Utc>,
    addr: &str,
    code: &str,
    device_name: &str,
    limits: Limits,
) -> Result<Outcome, SyncError> {
    join_reporting(store, now, addr, code, device_name, limits, &|_| {}).await
}

/// [`join`], telling `on_progress` how far the receiving is as it goes.
pub async fn join_reporting(
    store: &Store,
    now: DateTime<Utc>,
    addr: &str,
    code: &str,
    device_name: &str,
    limits: Limits,
    on_progress: &dyn Fn(&Progress),
) -> Result<Outcome, SyncError> {
    if store.local_device()?.is_some() {
        return Err(SyncError::Setup(
            "this laptop already belongs to an organisation; join from an empty data folder".into(),
        ));
    }
    let code = pairing::normalise_code(code).ok_or_else(|| {
        SyncError::refused(
            RefusalReason::WrongCode,
            format!("a pairing code is {} digits", pairing::CODE_DIGITS),
        )
    })?;
    // A join writes the whole organisation: its pages stay in memory until the last round
    // instead of being spilled and read back (and decrypted) again.
    let _cache = store.large_page_cache()?;
    let identity = super::identity::generate(false)?;
    let my_fp = fingerprint(&identity.cert);
    let device = Uuid::now_v7();
    let tcp = connect_tcp(addr).await?;
    let connector = tokio_rustls::TlsConnector::from(client_config(&identity)?);
    let name = ServerName::try_from(CERT_NAME).map_err(tls_err)?;
    let tls = timed("securing the connection", connector.connect(name, tcp)).await?;
    let their_fp = peer_fingerprint(tls.get_ref().1.peer_certificates())?;
    let mut framed = Framed::new(tls, limits);

    let (pake, outbound) = Pake::start(&code, true);
    framed
        .send(&Msg::PairStart(PairStart {
            protocol: PROTOCOL_VERSION,
            device,
            device_name: device_name.to_string(),
            spake: outbound,
        }))
        .await?;
    let inbound = match framed.recv().await? {
        Msg::PairSpake(b) => b,
        Msg::Refused(r) => return Err(SyncError::from_peer(r)),
        _ => {
            return Err(SyncError::Malformed(
                "an unexpected answer to pairing".into(),
            ));
        }
    };
    let confirmed = pake.finish(&inbound, &my_fp, &their_fp)?;
    framed.send(&Msg::PairConfirm(confirmed.proof())).await?;
    match framed.recv().await? {
        Msg::PairConfirm(proof) if confirmed.check(&proof) => {}
        Msg::PairConfirm(_) => {
            return Err(SyncError::refused(
                RefusalReason::WrongCode,
                "the other laptop could not prove it knows the code; nothing was shared",
            ));
        }
        Msg::Refused(r) => return Err(SyncError::from_peer(r)),
        _ => {
            return Err(SyncError::Malformed(
                "an unexpected answer to pairing".into(),
            ));
        }
    }
    let welcome = match framed.recv().await? {
        Msg::PairWelcome(w) => w,
        Msg::Refused(r) => return Err(SyncError::from_peer(r)),
        _ => {
            return Err(SyncError::Malformed(
                "an unexpected answer to pairing".into(),
            ));
        }
    };
    {
        let mut w = store.write()?;
        w.set_local_device(&LocalDevice {
            id: device,
            org_id: welcome.org,
            name: device_name.to_string(),
            tag: welcome.tag,
            current_hub: None,
        })?;
        w.set_identity(&Identity {
            org_key: Some(welcome.org_key),
            ..identity
        })?;
        // In the same transaction: a laptop paired without knowing whom it paired with could
        // never finish a join cut short.
        w.pin_joined_through(welcome.by_device, &with_default_port(addr), &their_fp)?;
        w.commit()?;
    }
    let peer = welcome.by_device;
    let mut session = Session::new(store, now, Role::Initiator, peer, Options::default())?;
    let result = drive(&mut framed, &mut session, None, on_progress)
        .await
        .map_err(|e| match e {
        SyncError::Network(m) => SyncError::Network(format!(
            "{m}. This laptop is paired but did not receive everything: sync again with the same address to finish"
        )),
        other => other,
    });
    let outcome = finish(
        store,
        now,
        peer,
        String::new(),
        Some(addr),
        result,
        &session,
        &framed,
    )
    .await?;
    let peer_name = store
        .devices()?
        .into_iter()
        .find(|d| d.id == peer)
        .map(|d| d.name)
        .unwrap_or_default();
    Ok(Outcome {
        peer_name,
        ..outcome
    })
}

/// Connections that have not shown who they are yet, oldest first. When a new one would
/// pass the limit the oldest is closed rather than the new one: an idle connection then
/// buys an attacker nothing once newer ones arrive, while a real laptop, which is through
/// its handshake in milliseconds, gets in even while a flood keeps the list full.
struct Pending {
    max: usize,
    next: u64,
    waiting: VecDeque<(u64, oneshot::Sender<()>)>,
}

impl Pending {
    fn new(max: usize) -> RefCell<Self> {
        RefCell::new(Self {
            max: max.max(1),
            next: 0,
            waiting: VecDeque::new(),
        })
    }

    /// A place for a new connection, and the signal that it was closed to make room.
    fn admit(gate: &RefCell<Self>) -> (Slot<'_>, oneshot::Receiver<()>) {
        let (tx, rx) = oneshot::channel();
        let mut p = gate.borrow_mut();
        while p.waiting.len() >= p.max {
            if let Some((_, oldest)) = p.waiting.pop_front() {
                let _ = oldest.send(());
            }
        }
        let id = p.next;
        p.next += 1;
        p.waiting.push_back((id, tx));
        (Slot { gate, id }, rx)
    }
}

/// A connection's place among the pending ones, given up once it has shown who it is (or
/// when it ends). Giving it up drops the eviction signal's sender, which the connection
/// then sees as "never evicted".
struct Slot<'g> {
    gate: &'g RefCell<Pending>,
    id: u64,
}

impl Slot<'_> {
    fn release(&mut self) {
        self.gate
            .borrow_mut()
            .waiting
            .retain(|(id, _)| *id != self.id);
    }
}

impl Drop for Slot<'_> {
    fn drop(&mut self) {
        self.release();
    }
}

/// Serves one incoming connection (a sync session with a paired laptop, or pairing) holding a
/// pending `slot` until it has shown who it is; `evicted` fires if the slot is taken back to
/// make room for a newer connection.
#[allow(clippy::too_many_arguments)]
async fn serve_admitted(
    store: &Store,
    now: DateTime<Utc>,
    tcp: TcpStream,
    limits: Limits,
    admission: Admission,
    mut slot: Slot<'_>,
    mut evicted: oneshot::Receiver<()>,
    on_progress: &dyn Fn(&Progress),
) -> Result<Outcome, SyncError> {
    let identity = ensure_identity(store, now)?;
    let _ = tcp.set_nodelay(true);
    let remote = tcp.peer_addr().ok();
    let acceptor = tokio_rustls::TlsAcceptor::from(server_config(&identity)?);
    let my_fp = fingerprint(&identity.cert);
    let arrival = async {
        let tls = acceptor
            .accept(tcp)
            .await
            .map_err(|e| SyncError::Network(format!("securing the connection: {e}")))?;
        let fp = peer_fingerprint(tls.get_ref().1.peer_certificates())?;
        let intro = Limits {
            max_frame: limits.max_frame.min(INTRO_LIMIT),
            max_message: limits.max_message.min(INTRO_LIMIT),
        };
        let mut framed = Framed::new(tls, intro);
        let first = framed.recv().await?;
        Ok::<_, SyncError>((framed, fp, first))
    };
    let introduced = async {
        let (mut framed, fp, first) =
            match tokio::time::timeout(admission.handshake_timeout, arrival).await {
                Ok(r) => r?,
                Err(_) => {
                    return Err(SyncError::Network(
                        "the other side did not start a sync in time, so it was disconnected"
                            .into(),
                    ));
                }
            };
        let first = match first {
            Msg::PairStart(start) => {
                serve_pairing(
                    store,
                    now,
                    &mut framed,
                    &identity,
                    &my_fp,
                    &fp,
                    start,
                    &mut slot,
                )
                .await?;
                framed.recv().await?
            }
            other => other,
        };
        match trusted_device(store, &fp) {
            Ok((peer, peer_name)) => {
                slot.release();
                framed.limits = limits;
                Ok((framed, first, peer, peer_name))
            }
            Err(e) => {
                if let Some(removed) = removed_device(store, &fp) {
                    tell_removed(store, now, &mut framed, removed, limits).await;
                }
                let _ = framed.send(&Session::refusal_for(&e)).await;
                framed.close().await;
                Err(e)
            }
        }
    };
    let (mut framed, first, peer, peer_name) = tokio::select! {
        r = introduced => r?,
        // Only a real eviction matches: a released slot drops the sender instead.
        Ok(()) = &mut evicted => {
            return Err(SyncError::Network(
                "too many connections were waiting to start at once, so the oldest was closed"
                    .into(),
            ));
        }
    };
    let mut session = Session::new(store, now, Role::Responder, peer, Options::default())?;
    let result = drive(&mut framed, &mut session, Some(first), on_progress).await;
    framed.close().await;
    // A peer that reached us likely listens on the usual port at the same address: remember
    // that until a better address (typed, or found on the LAN) replaces it.
    let guess = match (&result, remote) {
        (Ok(()), Some(r)) if store.peer(peer)?.and_then(|p| p.address).is_none() => {
            Some(std::net::SocketAddr::new(r.ip(), DEFAULT_PORT).to_string())
        }
        _ => None,
    };
    finish(
        store,
        now,
        peer,
        peer_name,
        guess.as_deref(),
        result,
        &session,
        &framed,
    )
    .await
}

async fn refuse<S: AsyncRead + AsyncWrite + Unpin>(
    framed: &mut Framed<S>,
    reason: RefusalReason,
    message: &str,
) -> SyncError {
    let _ = framed
        .send(&Msg::Refused(Refusal {
            reason,
            message: message.to_string(),
        }))
        .await;
    framed.close().await;
    SyncError::refused(reason, message)
}

#[allow(clippy::too_many_arguments)]
async fn serve_pairing<S: AsyncRead + AsyncWrite + Unpin>(
    store: &Store,
    now: DateTime<Utc>,
    framed: &mut Framed<S>,
    identity: &Identity,
    my_fp: &str,
    joiner_fp: &str,
    start: PairStart,
    slot: &mut Slot<'_>,
) -> Result<(), SyncError> {
    if start.protocol != PROTOCOL_VERSION {
        return Err(refuse(
            framed,
            RefusalReason::ProtocolVersion,
            "the two laptops run different versions of hubdesk; update both",
        )
        .await);
    }
    let pairing = store
        .pairing()?
        .filter(|p| p.expires_at > now && p.failures < pairing::MAX_FAILURES);
    let Some(pairing) = pairing else {
        return Err(refuse(
            framed,
            RefusalReason::NoPairingCode,
            "no pairing code is waiting on the other laptop (or it ran out); ask a manager there for a new one",
        )
        .await);
    };
    let name = start.device_name.trim();
    if name.is_empty() || name.chars().count() > 60 || name.chars().any(char::is_control) {
        return Err(refuse(
            framed,
            RefusalReason::Error,
            "the new laptop's name must be 1 to 60 characters",
        )
        .await);
    }
    if store
        .devices()?
        .iter()
        .any(|d| d.name.eq_ignore_ascii_case(name) || d.id == start.device)
    {
        return Err(refuse(
            framed,
            RefusalReason::Error,
            &format!("a laptop called \"{name}\" is already paired; choose another name"),
        )
        .await);
    }
    let (pake, outbound) = Pake::start(&pairing.code, false);
    framed.send(&Msg::PairSpake(outbound)).await?;
    let proof = match framed.recv().await? {
        Msg::PairConfirm(p) => p,
        _ => return Err(SyncError::Malformed("an unexpected pairing message".into())),
    };
    let ok = pake
        .finish(&start.spake, joiner_fp, my_fp)
        .map(|c| c.check(&proof).then_some(c));
    let confirmed = match ok {
        Ok(Some(c)) => c,
        _ => {
            let failures = store.pairing_failed()?;
            if failures >= pairing::MAX_FAILURES {
                store.clear_pairing()?;
            }
            // Slows down guessing; a person retyping a code does not notice.
            tokio::time::sleep(Duration::from_secs(1)).await;
            return Err(refuse(
                framed,
                RefusalReason::WrongCode,
                "that pairing code is not right; check it and try again",
            )
            .await);
        }
    };
    // The joiner has proved it holds the code: from here on it is no stranger, and closing
    // it to make room could leave it added here without having been welcomed.
    slot.release();
    framed.send(&Msg::PairConfirm(confirmed.proof())).await?;
    let me = store
        .local_device()?
        .ok_or(crate::store::StoreError::NotSetUp)?;
    let org_key = identity.org_key.ok_or_else(|| {
        SyncError::Setup("this laptop has no organisation key to hand over".into())
    })?;
    let tag = add_device(store, now, start.device, name, joiner_fp)?;
    store.clear_pairing()?;
    framed
        .send(&Msg::PairWelcome(PairWelcome {
            org: me.org_id,
            org_key,
            tag,
            by_device: me.id,
        }))
        .await?;
    Ok(())
}

/// Binds the sync port.
pub async fn listen(addr: &str) -> Result<TcpListener, SyncError> {
    TcpListener::bind(with_default_port(addr))
        .await
        .map_err(|e| SyncError::Network(format!("could not listen on {addr}: {e}")))
}

/// Serves connections until `stop` resolves, many at once (see the module docs). Each
/// outcome, including connections closed before they showed who they were, goes to `on_done`.
pub async fn serve(
    store: &Store,
    listener: TcpListener,
    limits: Limits,
    stop: impl std::future::Future<Output = ()>,
    on_done: impl FnMut(Result<Outcome, SyncError>),
) -> Result<(), SyncError> {
    serve_with(store, listener, limits, Admission::default(), stop, on_done).await
}

/// [`serve`] with the admission rules given (tests use a handshake that never times out).
pub async fn serve_with(
    store: &Store,
    listener: TcpListener,
    limits: Limits,
    admission: Admission,
    stop: impl std::future::Future<Output = ()>,
    on_done: impl FnMut(Result<Outcome, SyncError>),
) -> Result<(), SyncError> {
    serve_reporting(store, listener, limits, admission, stop, on_done, &|_| {}).await
}

/// [`serve_with`], telling `on_progress` how far each session is as it goes (sessions with
/// different laptops are told apart by [`Progress::peer`]).
pub async fn serve_reporting(
    store: &Store,
    listener: TcpListener,
    limits: Limits,
    admission: Admission,
    stop: impl std::future::Future<Output = ()>,
    mut on_done: impl FnMut(Result<Outcome, SyncError>),
    on_progress: &dyn Fn(&Progress),
) -> Result<(), SyncError> {
    tokio::pin!(stop);
    let gate = Pending::new(admission.max_pending);
    let mut sessions = FuturesUnordered::new();
    loop {
        tokio::select! {
            _ = &mut stop => return Ok(()),
            Some(result) = sessions.next() => on_done(result),
            accepted = listener.accept() => match accepted {
                Ok((tcp, _)) => {
                    let (slot, evicted) = Pending::admit(&gate);
                    sessions.push(serve_admitted(
                        store,
                        Utc::now(),
                        tcp,
                        limits,
                        admission,
                        slot,
                        evicted,
                        on_progress,
                    ));
                }
                // Out of file descriptors or a connection reset before it was taken: not a
                // reason to stop serving everyone else.
                Err(e) => {
                    on_done(Err(SyncError::Network(format!(
                        "could not take an incoming connection: {e}"
                    ))));
                    tokio::time::sleep(ACCEPT_PAUSE).await;
                }
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_typed_address_gets_the_default_port_and_a_bad_port_is_refused() {
        for (typed, meant) in [
            ("192.168.1.20", "192.168.1.20:47810"),
            (" 192.168.1.20:5000 ", "192.168.1.20:5000"),
            ("desk-1.local", "desk-1.local:47810"),
            ("fe80::1", "[fe80::1]:47810"),
            ("[fe80::1]", "[fe80::1]:47810"),
            ("[::1]:5000", "[::1]:5000"),
        ] {
            assert_eq!(parse_address(typed).unwrap(), meant, "{typed}");
        }
        for typed in [
            "127.0.0.1:99999",
            "127.0.0.1:0",
            "127.0.0.1:",
            "127.0.0.1:port",
            ":47810",
            "",
            "a b",
            "1:2:x",
            "[::1]:99999",
            "[nope]",
        ] {
            assert!(
                matches!(parse_address(typed), Err(SyncError::Address(_))),
                "{typed}"
            );
        }
    }
}
