//! The QR code IAM answers for a new virtual MFA device (`QRCodePNG`): the device's
//! `otpauth://totp/…` URI, as authenticator apps scan it, drawn as a black-and-white PNG.

use std::io::Write;

use flate2::Compression;
use flate2::write::ZlibEncoder;
use qrcode::{Color, QrCode};

/// Pixels per QR module, and the quiet zone around the code (in modules).
const SCALE: usize = 4;
const QUIET: usize = 4;

/// The URI AWS encodes: `otpauth://totp/{device}@{account}?secret={base32}`.
pub fn otpauth_uri(device_name: &str, account: &str, base32_seed: &str) -> String {
    format!("otpauth://totp/{device_name}@{account}?secret={base32_seed}")
}

/// The QR code of `text` as a PNG; `None` if the text is too long for a QR code.
pub fn png(text: &str) -> Option<Vec<u8>> {
    let code = QrCode::new(text.as_bytes()).ok()?;
    let modules = code.width();
    let colors = code.to_colors();
    let side = (modules + 2 * QUIET) * SCALE;
    // 8-bit greyscale scanlines, each preceded by filter type 0.
    let mut raw = Vec::with_capacity(side * (side + 1));
    for y in 0..side {
        raw.push(0u8);
        for x in 0..side {
            let (mx, my) = (x / SCALE, y / SCALE);
            let dark = mx >= QUIET
                && my >= QUIET
                && mx < QUIET + modules
                && my < QUIET + modules
                && colors[(my - QUIET) * modules + (mx - QUIET)] == Color::Dark;
            raw.push(if dark { 0 } else { 255 });
        }
    }
    let mut z = ZlibEncoder::new(Vec::new(), Compression::default());
    z.write_all(&raw).ok()?;
    let idat = z.finish().ok()?;
    let mut png = b"\x89PNG\r\n\x1a\n".to_vec();
    let mut ihdr = Vec::new();
    ihdr.extend_from_slice(&(side as u32).to_be_bytes());
    ihdr.extend_from_slice(&(side as u32).to_be_bytes());
    ihdr.extend_from_slice(&[8, 0, 0, 0, 0]); // 8-bit greyscale, deflate, no interlace
    chunk(&mut png, b"IHDR", &ihdr);
    chunk(&mut png, b"IDAT", &idat);
    chunk(&mut png, b"IEND", &[]);
    Some(png)
}

fn chunk(out: &mut Vec<u8>, kind: &[u8; 4], data: &[u8]) {
    out.extend_from_slice(&(data.len() as u32).to_be_bytes());
    let mut crc = crc32fast::Hasher::new();
    crc.update(kind);
    crc.update(data);
    out.extend_from_slice(kind);
    out.extend_from_slice(data);
    out.extend_from_slice(&crc.finalize().to_be_bytes());
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn png_is_well_formed() {
        let p = png(&otpauth_uri("phone", "111122223333", "JBSWY3DPEHPK3PXP")).unwrap();
        assert_eq!(&p[..8], b"\x89PNG\r\n\x1a\n");
        assert_eq!(&p[12..16], b"IHDR");
        let side = u32::from_be_bytes([p[16], p[17], p[18], p[19]]);
        assert!(side >= (21 + 8) * 4);
        assert_eq!(&p[p.len() - 8..p.len() - 4], b"IEND");
    }
}
