//! `GET <prefix>/static/<name>`: the UI's script, style sheet and icon,
//! compiled into the binary (no outside fetches, no build tool).
//!
//! Owns the fixed name → asset table. A request name is compared with the
//! table's names byte for byte and never touches the file system, so no
//! path (`..`, `%2f`, absolute) can reach anything else; unknown names 404.

use crate::http::response::Response;

/// One embedded file.
#[derive(Debug)]
pub struct Asset {
    /// Name under `static/`.
    pub name: &'static str,
    /// `Content-Type` it is served with.
    pub content_type: &'static str,
    /// The file.
    pub body: &'static [u8],
}

/// Every file under `static/`.
pub const ASSETS: [Asset; 3] = [
    Asset {
        name: "pushgate.js",
        content_type: "text/javascript; charset=utf-8",
        body: include_bytes!("assets/pushgate.js"),
    },
    Asset {
        name: "pushgate.css",
        content_type: "text/css; charset=utf-8",
        body: include_bytes!("assets/pushgate.css"),
    },
    Asset {
        name: "favicon.svg",
        content_type: "image/svg+xml",
        body: include_bytes!("assets/favicon.svg"),
    },
];

/// FNV-1a over every asset: the `?v=` of asset links, so a browser fetches
/// changed assets after an upgrade however long it cached the old ones.
pub const VERSION: u64 = {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    let mut a = 0;
    while a < ASSETS.len() {
        let body = ASSETS[a].body;
        let mut i = 0;
        while i < body.len() {
            h ^= body[i] as u64;
            h = h.wrapping_mul(0x0000_0100_0000_01b3);
            i += 1;
        }
        a += 1;
    }
    h
};

/// The asset called `name`, if there is one.
pub fn find(name: &[u8]) -> Option<&'static Asset> {
    ASSETS.iter().find(|a| a.name.as_bytes() == name)
}

/// Serves the asset called `name`, or the Go server's 404.
pub fn handle(name: &[u8]) -> Response {
    let Some(asset) = find(name) else {
        return Response::error(404, "404 page not found");
    };
    Response {
        status: 200,
        headers: vec![
            ("Content-Type", asset.content_type.to_owned()),
            ("X-Content-Type-Options", "nosniff".to_owned()),
            // Links carry ?v=VERSION, so a day of caching never serves stale assets.
            ("Cache-Control", "public, max-age=86400".to_owned()),
        ],
        body: asset.body.to_vec(),
        pieces: Vec::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_assets_are_served_with_their_type() {
        let r = handle(b"pushgate.js");
        assert_eq!(r.status, 200);
        assert_eq!(r.headers[0], ("Content-Type", "text/javascript; charset=utf-8".to_owned()));
        assert_eq!(handle(b"pushgate.css").headers[0].1, "text/css; charset=utf-8");
        assert_eq!(handle(b"favicon.svg").headers[0].1, "image/svg+xml");
    }

    #[test]
    fn anything_else_is_404() {
        for name in [
            &b""[..],
            b"../Cargo.toml",
            b"..%2fCargo.toml",
            b"/etc/passwd",
            b"pushgate.js/",
            b"./pushgate.js",
            b"PUSHGATE.JS",
            b"pushgate.js\0",
            b"assets/pushgate.js",
        ] {
            assert_eq!(handle(name).status, 404, "{}", String::from_utf8_lossy(name));
        }
    }

    #[test]
    fn assets_have_no_outside_references() {
        for a in &ASSETS {
            // The SVG namespace is a name, not a fetch.
            let text = String::from_utf8_lossy(a.body).replace("http://www.w3.org/2000/svg", "");
            for bad in ["http://", "https://", "//cdn", "@import", "eval(", "innerHTML"] {
                assert!(!text.contains(bad), "{} contains {bad}", a.name);
            }
        }
    }
}
