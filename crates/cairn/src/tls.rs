//! HTTPS for `cairn serve`: a certificate and key from PEM files, or a self-signed pair made
//! and kept in the data directory — a local CA (whose certificate clients trust through
//! `AWS_CA_BUNDLE`) and a server certificate it signs afresh at every start.

use std::net::IpAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::{Context, bail};
use rcgen::{
    BasicConstraints, CertificateParams, DistinguishedName, DnType, ExtendedKeyUsagePurpose, IsCa,
    KeyPair, KeyUsagePurpose,
};
use rustls::ServerConfig;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};

/// What serving HTTPS needs, and the CA file clients should trust (self-signed only).
pub struct ServerTls {
    pub config: Arc<ServerConfig>,
    pub ca_bundle: Option<PathBuf>,
}

fn server_config(
    certs: Vec<CertificateDer<'static>>,
    key: PrivateKeyDer<'static>,
) -> anyhow::Result<Arc<ServerConfig>> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut config = ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .context("TLS protocol versions")?
        .with_no_client_auth()
        .with_single_cert(certs, key)
        .context("the TLS certificate does not match its key")?;
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(Arc::new(config))
}

/// A certificate chain and private key from PEM files (`--tls-cert`, `--tls-key`).
pub fn from_files(cert: &Path, key: &Path) -> anyhow::Result<ServerTls> {
    let certs: Vec<CertificateDer<'static>> = CertificateDer::pem_file_iter(cert)
        .with_context(|| format!("reading the TLS certificate {}", cert.display()))?
        .collect::<Result<_, _>>()
        .with_context(|| format!("reading the TLS certificate {}", cert.display()))?;
    if certs.is_empty() {
        bail!("{} holds no PEM certificate", cert.display());
    }
    let key = PrivateKeyDer::from_pem_file(key)
        .with_context(|| format!("reading the TLS private key {}", key.display()))?;
    Ok(ServerTls {
        config: server_config(certs, key)?,
        ca_bundle: None,
    })
}

fn ca_params() -> anyhow::Result<CertificateParams> {
    let mut p = CertificateParams::new(Vec::<String>::new())?;
    let mut dn = DistinguishedName::new();
    dn.push(DnType::CommonName, "cairn local CA");
    dn.push(DnType::OrganizationName, "cairn");
    p.distinguished_name = dn;
    p.is_ca = IsCa::Ca(BasicConstraints::Constrained(0));
    p.key_usages = vec![
        KeyUsagePurpose::KeyCertSign,
        KeyUsagePurpose::CrlSign,
        KeyUsagePurpose::DigitalSignature,
    ];
    let now = time::OffsetDateTime::now_utc();
    p.not_before = now - time::Duration::days(1);
    p.not_after = now + time::Duration::days(3650);
    Ok(p)
}

/// Writes a file only its owner may read.
fn write_private(path: &Path, text: &str) -> anyhow::Result<()> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    let tmp = path.with_extension("tmp");
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .open(&tmp)
        .with_context(|| format!("writing {}", tmp.display()))?;
    f.write_all(text.as_bytes())?;
    f.sync_all()?;
    std::fs::rename(&tmp, path).with_context(|| format!("writing {}", path.display()))?;
    Ok(())
}

/// The self-signed pair in `dir` (made on first use): the CA stays, so clients that trust
/// `ca.pem` keep trusting the endpoint; the server certificate names `localhost`, the
/// loopback addresses and `listen_ip`.
pub fn self_signed(dir: &Path, listen_ip: IpAddr) -> anyhow::Result<ServerTls> {
    {
        use std::os::unix::fs::DirBuilderExt;
        std::fs::DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(dir)
            .with_context(|| format!("creating {}", dir.display()))?;
    }
    let ca_key_path = dir.join("ca.key");
    let ca_pem_path = dir.join("ca.pem");
    let ca_key = if ca_key_path.exists() && ca_pem_path.exists() {
        let pem = std::fs::read_to_string(&ca_key_path)
            .with_context(|| format!("reading {}", ca_key_path.display()))?;
        KeyPair::from_pem(&pem).with_context(|| format!("reading {}", ca_key_path.display()))?
    } else {
        let key = KeyPair::generate()?;
        let ca = ca_params()?.self_signed(&key)?;
        write_private(&ca_key_path, &key.serialize_pem())?;
        std::fs::write(&ca_pem_path, ca.pem())
            .with_context(|| format!("writing {}", ca_pem_path.display()))?;
        key
    };
    // The same name and key as the CA certificate on disk, so what it signs chains to it.
    let ca = ca_params()?.self_signed(&ca_key)?;
    let mut names = vec![
        "localhost".to_owned(),
        "127.0.0.1".to_owned(),
        "::1".to_owned(),
    ];
    if !listen_ip.is_unspecified() && !listen_ip.is_loopback() {
        names.push(listen_ip.to_string());
    }
    let mut leaf = CertificateParams::new(names)?;
    let mut dn = DistinguishedName::new();
    dn.push(DnType::CommonName, "cairn");
    leaf.distinguished_name = dn;
    leaf.is_ca = IsCa::ExplicitNoCa;
    leaf.key_usages = vec![
        KeyUsagePurpose::DigitalSignature,
        KeyUsagePurpose::KeyEncipherment,
    ];
    leaf.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
    leaf.use_authority_key_identifier_extension = true;
    let now = time::OffsetDateTime::now_utc();
    leaf.not_before = now - time::Duration::days(1);
    leaf.not_after = now + time::Duration::days(397);
    let leaf_key = KeyPair::generate()?;
    let cert = leaf.signed_by(&leaf_key, &ca, &ca_key)?;
    let chain = vec![cert.der().clone(), ca.der().clone()];
    let key = PrivateKeyDer::try_from(leaf_key.serialize_der())
        .map_err(|e| anyhow::anyhow!("the generated TLS key: {e}"))?;
    Ok(ServerTls {
        config: server_config(chain, key)?,
        ca_bundle: Some(ca_pem_path),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn self_signed_ca_is_kept_across_starts() {
        let dir = tempfile::tempdir().unwrap();
        let a = self_signed(dir.path(), "127.0.0.1".parse().unwrap()).unwrap();
        let ca1 = std::fs::read(a.ca_bundle.as_ref().unwrap()).unwrap();
        let b = self_signed(dir.path(), "127.0.0.1".parse().unwrap()).unwrap();
        let ca2 = std::fs::read(b.ca_bundle.as_ref().unwrap()).unwrap();
        assert_eq!(ca1, ca2);
        let mode = std::os::unix::fs::PermissionsExt::mode(
            &std::fs::metadata(dir.path().join("ca.key"))
                .unwrap()
                .permissions(),
        );
        assert_eq!(mode & 0o077, 0);
    }
}
