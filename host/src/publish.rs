//! The authors' side of signed plugins (crate::signature is the host's): `openhost plugins keygen` writes a key pair and `openhost plugins sign`
//! writes `FILE.minisig`, both in minisign's own formats (read and written by the reference implementation's
//! crate), so the stock `minisign` tool reads what these write and writes what these read.

use std::{
    io::Write,
    path::{Path, PathBuf},
};

use base64::Engine;

use crate::{
    loader::{self, Contents, Unopenable, object_file},
    signature::{TrustedKey, signature_path},
};

/// Where a signing key's password comes from when no terminal is asked.
pub const PASSWORD_VARIABLE: &str = "OPENHOST_SIGNING_PASSWORD";
/// The file names `keygen` writes.
pub const PUBLIC_KEY_FILE: &str = "openhost.pub";
pub const SECRET_KEY_FILE: &str = "openhost.key";

/// Why a key pair or a signature was not written.
#[derive(Debug, thiserror::Error)]
pub enum PublishError {
    #[error("{} already exists; keygen never overwrites a key (move it away first)", .0.display())]
    Exists(PathBuf),
    #[error("cannot write {}: {source}", path.display())]
    Write { path: PathBuf, source: std::io::Error },
    #[error("cannot read {}: {source}", path.display())]
    Read { path: PathBuf, source: std::io::Error },
    #[error("cannot read {}: {source}", path.display())]
    ReadPlugin { path: PathBuf, source: Unopenable },
    #[error("{} is not an openhost plugin: {reason}", path.display())]
    NotAPlugin { path: PathBuf, reason: String },
    #[error("{} is a library, which states its own name and version: --name and --version are for modules", .0.display())]
    LibraryNamesItself(PathBuf),
    #[error("{} is not a minisign secret key", .0.display())]
    NotASecretKey(PathBuf),
    #[error("the secret key {}: {source}", path.display())]
    Key { path: PathBuf, source: minisign::PError },
    #[error("cannot ask for the password ({0}); set {PASSWORD_VARIABLE}")]
    Prompt(#[source] std::io::Error),
    #[error("the passwords differ")]
    PasswordsDiffer,
    #[error("an empty password protects nothing; use --unencrypted for a throwaway key")]
    EmptyPassword,
    #[error("cannot make a key pair or a signature: {0}")]
    Minisign(#[source] minisign::PError),
}

/// A key pair `keygen` wrote.
#[derive(Debug)]
pub struct KeyPairFiles {
    pub public_key: PathBuf,
    pub secret_key: PathBuf,
    /// The base64 line for `[host] trusted_keys`.
    pub trusted_key: String,
}

/// Writes a new key pair into `dir`: `openhost.pub` and `openhost.key` (readable by its owner only), the secret
/// key encrypted under a password (from [`PASSWORD_VARIABLE`] or asked twice on the terminal) unless
/// `unencrypted`.
pub fn keygen(dir: &Path, unencrypted: bool) -> Result<KeyPairFiles, PublishError> {
    let public_path = dir.join(PUBLIC_KEY_FILE);
    let secret_path = dir.join(SECRET_KEY_FILE);
    for path in [&public_path, &secret_path] {
        if path.exists() {
            return Err(PublishError::Exists(path.clone()));
        }
    }
    let pair = if unencrypted {
        minisign::KeyPair::generate_unencrypted_keypair()
    } else {
        minisign::KeyPair::generate_encrypted_keypair(Some(password(true)?))
    }
    .map_err(PublishError::Minisign)?;
    let public_box = pair.pk.to_box().map_err(PublishError::Minisign)?;
    let trusted_key = pair.pk.to_base64();
    let secret_box = pair.sk.to_box(None).map_err(PublishError::Minisign)?;
    write_new(&secret_path, secret_box.to_string().as_bytes(), 0o600)?;
    if let Err(e) = write_new(&public_path, public_box.to_string().as_bytes(), 0o644) {
        // Half a key pair is no use, and would stop the next keygen here.
        let _ = std::fs::remove_file(&secret_path);
        return Err(e);
    }
    Ok(KeyPairFiles {
        public_key: public_path,
        secret_key: secret_path,
        trusted_key,
    })
}

/// A signature `sign` wrote.
#[derive(Debug)]
pub struct Signed {
    pub file: PathBuf,
    pub trusted_comment: String,
    pub key_id: String,
}

/// Signs a plugin file with the secret key at `key`: writes `FILE.minisig`, whose trusted comment names the
/// plugin (`plugin=NAME version=VERSION`). A library names itself in its manifest; a sandboxed module is named by
/// its file stem unless `name` says otherwise (a table's `file` key gives it another), and has a version only if
/// `version` gives one.
pub fn sign(file: &Path, key: &Path, name: Option<&str>, version: Option<&str>) -> Result<Signed, PublishError> {
    let bytes = loader::read_plugin_file(file).map_err(|source| PublishError::ReadPlugin {
        path: file.to_owned(),
        source,
    })?;
    let (plugin, plugin_version) = if loader::is_module_name(file) {
        let stem = file.file_stem().map(|stem| stem.to_string_lossy().into_owned());
        (
            name.map(str::to_owned).or(stem).unwrap_or_default(),
            version.map(str::to_owned),
        )
    } else if name.is_some() || version.is_some() {
        return Err(PublishError::LibraryNamesItself(file.to_owned()));
    } else {
        match object_file::inspect(bytes.as_slice()) {
            Contents::Plugin(manifest) => (manifest.name, Some(manifest.version)),
            Contents::NotAPlugin(reason) => {
                return Err(PublishError::NotAPlugin {
                    path: file.to_owned(),
                    reason,
                });
            }
        }
    };
    let trusted_comment = match plugin_version {
        Some(version) => format!("plugin={plugin} version={version}"),
        None => format!("plugin={plugin}"),
    };
    let secret_key = read_secret_key(key)?;
    let public_key = minisign::PublicKey::from_secret_key(&secret_key).map_err(PublishError::Minisign)?;
    let signature = minisign::sign(
        Some(&public_key),
        &secret_key,
        bytes.as_slice(),
        Some(&trusted_comment),
        Some("signature from openhost plugins sign"),
    )
    .map_err(PublishError::Minisign)?;
    let signature_file = signature_path(file);
    write_replacing(&signature_file, signature.into_string().as_bytes())?;
    let key_id = TrustedKey::parse(&public_key.to_base64())
        .map(|key| key.id.to_string())
        .unwrap_or_default();
    Ok(Signed {
        file: signature_file,
        trusted_comment,
        key_id,
    })
}

/// A minisign secret key file, decrypted with the password if it is encrypted.
fn read_secret_key(path: &Path) -> Result<minisign::SecretKey, PublishError> {
    let text = std::fs::read_to_string(path).map_err(|source| PublishError::Read {
        path: path.to_owned(),
        source,
    })?;
    // The second line: the signature algorithm, then the key derivation's (`Sc`: scrypt; zeros: unencrypted).
    let encrypted = match text
        .lines()
        .nth(1)
        .and_then(|line| base64::engine::general_purpose::STANDARD.decode(line.trim()).ok())
    {
        Some(bytes) if bytes.len() > 4 && &bytes[..2] == b"Ed" => bytes[2..4] != [0, 0],
        _ => return Err(PublishError::NotASecretKey(path.to_owned())),
    };
    let secret_box =
        minisign::SecretKeyBox::from_string(&text).map_err(|_| PublishError::NotASecretKey(path.to_owned()))?;
    let key = if encrypted {
        secret_box.into_secret_key(Some(password(false)?))
    } else {
        secret_box.into_unencrypted_secret_key()
    };
    key.map_err(|source| PublishError::Key {
        path: path.to_owned(),
        source,
    })
}

/// The signing key's password: [`PASSWORD_VARIABLE`], or asked on the terminal without echo (twice for a new key).
fn password(new_key: bool) -> Result<String, PublishError> {
    if let Ok(password) = std::env::var(PASSWORD_VARIABLE) {
        return if password.is_empty() {
            Err(PublishError::EmptyPassword)
        } else {
            Ok(password)
        };
    }
    let password = rpassword::prompt_password("Password of the signing key: ").map_err(PublishError::Prompt)?;
    if password.is_empty() {
        return Err(PublishError::EmptyPassword);
    }
    if new_key && rpassword::prompt_password("The same password again: ").map_err(PublishError::Prompt)? != password {
        return Err(PublishError::PasswordsDiffer);
    }
    Ok(password)
}

/// Writes a file that must not exist yet, with this mode.
fn write_new(path: &Path, bytes: &[u8], mode: u32) -> Result<(), PublishError> {
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, mode);
    #[cfg(not(unix))]
    let _ = mode;
    let write_error = |source| PublishError::Write {
        path: path.to_owned(),
        source,
    };
    let mut file = options.open(path).map_err(write_error)?;
    file.write_all(bytes)
        .and_then(|()| file.sync_all())
        .map_err(write_error)
}

/// Writes a file whole or not at all (crate::replace_file); a new one readable by all, as a signature is public.
fn write_replacing(path: &Path, bytes: &[u8]) -> Result<(), PublishError> {
    crate::replace_file::replace_file(path, bytes, 0o644).map_err(|source| PublishError::Write {
        path: path.to_owned(),
        source,
    })
}
