//! Finding the organisation's other laptops on the LAN with multicast DNS (DNS-SD), where
//! the network allows it. A manual address always works too; this only saves typing it.
//!
//! Each laptop advertises `_hubdesk._tcp` with two TXT values: a short hash of the
//! organisation's id (so laptops of the same organisation recognise each other without the
//! id itself being broadcast) and its device id. No names and no personal data. What is
//! found is only a hint: the TLS handshake still decides whom to trust.

use mdns_sd::{ServiceDaemon, ServiceEvent, ServiceInfo};
use sha2::{Digest, Sha256};
use uuid::Uuid;

use super::SyncError;

pub const SERVICE_TYPE: &str = "_hubdesk._tcp.local.";

/// The organisation tag laptops advertise.
pub fn org_tag(org: Uuid) -> String {
    hex::encode(&Sha256::digest(org.as_bytes())[..8])
}

/// The device an advertisement names, if it is another laptop of this organisation.
pub fn peer_of(
    org: Uuid,
    me: Uuid,
    txt_org: Option<&str>,
    txt_device: Option<&str>,
) -> Option<Uuid> {
    if txt_org? != org_tag(org) {
        return None;
    }
    let device = Uuid::parse_str(txt_device?).ok()?;
    (device != me).then_some(device)
}

pub struct Discovery {
    daemon: ServiceDaemon,
    events: mdns_sd::Receiver<ServiceEvent>,
    org: Uuid,
    me: Uuid,
}

impl Discovery {
    /// Advertises this laptop on `port` and starts looking for the others.
    pub fn start(org: Uuid, me: Uuid, port: u16) -> Result<Self, SyncError> {
        let err =
            |e: mdns_sd::Error| SyncError::Network(format!("LAN discovery is not available: {e}"));
        let daemon = ServiceDaemon::new().map_err(err)?;
        let instance = me.simple().to_string();
        let host = format!("hubdesk-{}.local.", &instance[..12]);
        let properties = [("org", org_tag(org)), ("device", me.to_string())];
        let info = ServiceInfo::new(SERVICE_TYPE, &instance, &host, "", port, &properties[..])
            .map_err(err)?
            .enable_addr_auto();
        daemon.register(info).map_err(err)?;
        let events = daemon.browse(SERVICE_TYPE).map_err(err)?;
        Ok(Self {
            daemon,
            events,
            org,
            me,
        })
    }

    /// Laptops of this organisation found since the last call: (device, "ip:port").
    pub fn found(&self) -> Vec<(Uuid, String)> {
        let mut out = Vec::new();
        while let Ok(event) = self.events.try_recv() {
            if let ServiceEvent::ServiceResolved(service) = event {
                let Some(device) = peer_of(
                    self.org,
                    self.me,
                    service.txt_properties.get_property_val_str("org"),
                    service.txt_properties.get_property_val_str("device"),
                ) else {
                    continue;
                };
                // Prefer an IPv4 address: the likeliest to work on a hub's Wi-Fi.
                let mut addrs: Vec<std::net::IpAddr> =
                    service.addresses.iter().map(|a| a.to_ip_addr()).collect();
                addrs.sort_by_key(|a| !a.is_ipv4());
                if let Some(ip) = addrs.first() {
                    out.push((
                        device,
                        std::net::SocketAddr::new(*ip, service.port).to_string(),
                    ));
                }
            }
        }
        out
    }
}

/// A hubdesk laptop seen on the LAN, for a laptop that has not joined yet (which cannot tell
/// organisations apart: the pairing code decides).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct SeenLaptop {
    pub address: String,
}

/// Looks for hubdesk laptops on the LAN for `wait`, then returns their addresses.
pub fn look_around(wait: std::time::Duration) -> Result<Vec<SeenLaptop>, SyncError> {
    let err =
        |e: mdns_sd::Error| SyncError::Network(format!("LAN discovery is not available: {e}"));
    let daemon = ServiceDaemon::new().map_err(err)?;
    let events = daemon.browse(SERVICE_TYPE).map_err(err)?;
    let deadline = std::time::Instant::now() + wait;
    let mut seen = Vec::new();
    while let Some(left) = deadline.checked_duration_since(std::time::Instant::now()) {
        match events.recv_timeout(left) {
            Ok(ServiceEvent::ServiceResolved(service)) => {
                let mut addrs: Vec<std::net::IpAddr> =
                    service.addresses.iter().map(|a| a.to_ip_addr()).collect();
                addrs.sort_by_key(|a| !a.is_ipv4());
                if let Some(ip) = addrs.first() {
                    let laptop = SeenLaptop {
                        address: std::net::SocketAddr::new(*ip, service.port).to_string(),
                    };
                    if !seen.contains(&laptop) {
                        seen.push(laptop);
                    }
                }
            }
            Ok(_) => {}
            Err(_) => break,
        }
    }
    let _ = daemon.shutdown();
    Ok(seen)
}

impl Drop for Discovery {
    fn drop(&mut self) {
        let _ = self.daemon.shutdown();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_other_laptops_of_the_same_organisation_are_taken() {
        let (org, me, other) = (Uuid::now_v7(), Uuid::now_v7(), Uuid::now_v7());
        let tag = org_tag(org);
        assert_eq!(
            peer_of(org, me, Some(&tag), Some(&other.to_string())),
            Some(other)
        );
        assert_eq!(
            peer_of(org, me, Some(&tag), Some(&me.to_string())),
            None,
            "not ourselves"
        );
        let stranger = org_tag(Uuid::now_v7());
        assert_eq!(
            peer_of(org, me, Some(&stranger), Some(&other.to_string())),
            None
        );
        assert_eq!(peer_of(org, me, Some(&tag), Some("not an id")), None);
        assert_eq!(peer_of(org, me, None, Some(&other.to_string())), None);
        assert!(
            !tag.contains(&org.simple().to_string()[..8]),
            "the id itself is not broadcast"
        );
    }
}
