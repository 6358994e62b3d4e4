//! Files of the repository: the fixtures of `test_data/` and the packaging files (`metadata.yml`,
//! `deploy/`, …), read relative to the crate root. A file that cannot be read or parsed fails the
//! test, naming the file.

use std::path::{Path, PathBuf};

use serde::de::DeserializeOwned;
use serde_json::Value;

/// A path of the repository, from the crate root.
pub fn repo_path(path: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join(path)
}

/// The bytes of `path`.
pub fn read_bytes(path: &Path) -> Vec<u8> {
    std::fs::read(path).unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()))
}

/// The text of a file of the repository (`path` from the crate root).
pub fn read_text(path: &str) -> String {
    let full = repo_path(path);
    std::fs::read_to_string(&full).unwrap_or_else(|e| panic!("cannot read {}: {e}", full.display()))
}

/// A YAML file of the repository, read into `T`.
pub fn yaml<T: DeserializeOwned>(path: &str) -> T {
    serde_yaml::from_str(&read_text(path)).unwrap_or_else(|e| panic!("{path}: {e}"))
}

/// A JSON file of the repository.
pub fn json_file(path: &str) -> Value {
    serde_json::from_str(&read_text(path)).unwrap_or_else(|e| panic!("{path}: {e}"))
}

/// A folder or file of `test_data/`.
pub fn data(name: &str) -> PathBuf {
    repo_path("test_data").join(name)
}

/// `test_data/<name>` as text.
pub fn fixture_text(name: &str) -> String {
    read_text(&format!("test_data/{name}"))
}

/// `test_data/<name>`, a JSON fixture.
pub fn fixture(name: &str) -> Value {
    let path = data(name);
    let text = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{} is not JSON: {e}", path.display()))
}
