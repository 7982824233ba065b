//! Digest crypto throughput: SHA256withRSA signatures made and verified per second with a
//! 2048-bit key, and SHA-256 over log-file bytes (plain, and gunzip + hash as validation does).

use std::time::Instant;

use cairn_trail::digest::file;
use cairn_trail::logfile;
use rsa::pkcs1::{EncodeRsaPrivateKey, EncodeRsaPublicKey};

#[derive(clap::Args)]
pub struct DigestArgs {
    /// Signatures to make and verify.
    #[arg(long, default_value_t = 200)]
    pub signatures: u32,
    /// Megabytes of log-file JSON to hash.
    #[arg(long, default_value_t = 256)]
    pub megabytes: usize,
    /// Print JSON instead of text.
    #[arg(long)]
    pub json: bool,
}

pub fn run(args: DigestArgs) -> anyhow::Result<()> {
    let private = rsa::RsaPrivateKey::new(&mut rand::rngs::OsRng, 2048)?;
    let public = private.to_public_key().to_pkcs1_der()?;
    let pair = file::key_pair(private.to_pkcs1_der()?.as_bytes()).map_err(anyhow::Error::msg)?;
    let to_sign = file::string_to_sign(
        "2024-05-01T01:01:31Z",
        "bucket",
        "AWSLogs/123456789012/CloudTrail-Digest/us-east-1/2024/05/01/x.json.gz",
        b"{}",
        None,
    );
    let n = args.signatures.max(1);
    let t = Instant::now();
    let mut sig = String::new();
    for _ in 0..n {
        sig = file::sign(&pair, &to_sign);
    }
    let sign_per_s = f64::from(n) / t.elapsed().as_secs_f64();
    let t = Instant::now();
    for _ in 0..n {
        anyhow::ensure!(file::verify(public.as_bytes(), &to_sign, &sig));
    }
    let verify_per_s = f64::from(n) / t.elapsed().as_secs_f64();

    // Realistic log-file bytes: CloudTrail-shaped records.
    let record = br#"{"eventVersion":"1.11","userIdentity":{"type":"Root","principalId":"123456789012","arn":"arn:aws:iam::123456789012:root","accountId":"123456789012"},"eventTime":"2024-05-01T01:01:31Z","eventSource":"cloudtrail.amazonaws.com","eventName":"DescribeTrails","awsRegion":"us-east-1","sourceIPAddress":"127.0.0.1","userAgent":"aws-cli/1.46.3","requestParameters":null,"responseElements":null,"requestID":"0f6f4c2e-3b7e-4c1a-9d35-6e0c0b3c9a11","eventID":"8c4b1a3e-2f6d-4e8b-a1c5-7d9e0f2b3c4d","readOnly":true,"eventType":"AwsApiCall","managementEvent":true,"recipientAccountId":"123456789012","eventCategory":"Management"}"#;
    let records: Vec<Vec<u8>> = (0..(1 << 20) / record.len())
        .map(|_| record.to_vec())
        .collect();
    let json = logfile::records_json(&records);
    let rounds = (args.megabytes << 20) / json.len().max(1);
    let t = Instant::now();
    for _ in 0..rounds.max(1) {
        std::hint::black_box(file::sha256_hex(&json));
    }
    let sha_mb_s = (rounds.max(1) * json.len()) as f64 / 1_048_576.0 / t.elapsed().as_secs_f64();
    let gz = logfile::gzip(&json);
    let t = Instant::now();
    for _ in 0..rounds.max(1) {
        let mut d = flate2::read::GzDecoder::new(&gz[..]);
        let mut out = Vec::with_capacity(json.len());
        std::io::Read::read_to_end(&mut d, &mut out)?;
        std::hint::black_box(file::sha256_hex(&out));
    }
    let gunzip_mb_s = (rounds.max(1) * json.len()) as f64 / 1_048_576.0 / t.elapsed().as_secs_f64();
    if args.json {
        println!(
            "{}",
            serde_json::json!({"bench": "digest", "rsa_bits": 2048, "sign_per_s": sign_per_s.round(),
                "verify_per_s": verify_per_s.round(), "sha256_mb_s": sha_mb_s.round(),
                "gunzip_sha256_mb_s": gunzip_mb_s.round()})
        );
    } else {
        println!(
            "SHA256withRSA (2048-bit): {sign_per_s:.0} signatures/s, {verify_per_s:.0} verifications/s"
        );
        println!(
            "SHA-256 of log-file JSON: {sha_mb_s:.0} MB/s; gunzip + SHA-256: {gunzip_mb_s:.0} MB/s (uncompressed)"
        );
    }
    Ok(())
}
