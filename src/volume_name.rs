//! The name of the projected token volume (docs/behaviour.md §4.5): a fixed prefix and the
//! first 30 hex characters of SHA-256 over the Pod's hash input, always 63 characters.

use sha2::{Digest, Sha256};

use crate::names::RESERVED_PREFIX;

const HASH_CHARS: usize = 30;

pub fn volume_name(hash_input: &str) -> String {
    let digest = Sha256::digest(hash_input.as_bytes());
    let mut name = String::with_capacity(RESERVED_PREFIX.len() + HASH_CHARS);
    name.push_str(RESERVED_PREFIX);
    for byte in digest.iter().take(HASH_CHARS / 2) {
        for nibble in [byte >> 4, byte & 0x0f] {
            // a nibble is always a hex digit; lower case, as Go's %x
            name.extend(char::from_digit(u32::from(nibble), 16));
        }
    }
    name
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matches_the_worked_examples() {
        // The worked examples of docs/behaviour.md §4.5.
        let cases = [
            (
                "pod",
                "azure-workload-identity-reserved-425c89ed5bb78a7623fae60fd8a6f6",
            ),
            (
                "web",
                "azure-workload-identity-reserved-4b5e57f6eb2f42b9039b3d1e139292",
            ),
            (
                "web-7d4b9c5f6- (prefix)",
                "azure-workload-identity-reserved-7a75b2d9436388dbbb56003231b852",
            ),
            (
                " (prefix)",
                "azure-workload-identity-reserved-7ae265465cf68a19ccd3c91d70dc31",
            ),
        ];
        for (input, expected) in cases {
            assert_eq!(volume_name(input), expected, "hash input {input:?}");
            assert_eq!(volume_name(input).len(), 63);
        }
    }
}
