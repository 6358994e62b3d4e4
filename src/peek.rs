//! Reading a few fields of a JSON object without decoding the rest: the guard decides from
//! them whether a request is the policy's at all, so most requests cost one scan of the object
//! and no allocation. One small visitor serves every field and object, which keeps the module
//! smaller than a derived struct per shape would.

use std::fmt;

use serde::Deserializer;
use serde::de::{DeserializeSeed, IgnoredAny, MapAccess, Visitor};
use serde_json::value::RawValue;

/// `object[key]`, when `object` is a JSON object that has `key` exactly once.
pub fn field<'a>(object: &'a RawValue, key: &str) -> Option<&'a RawValue> {
    match scan(object, &|k| k == key) {
        Some((1, value)) => value,
        _ => None,
    }
}

/// The field at this path of nested objects.
pub fn path<'a>(object: &'a RawValue, keys: &[&str]) -> Option<&'a RawValue> {
    keys.iter().try_fold(object, |node, key| field(node, key))
}

/// Whether `object` is a JSON object with a key for which `wanted` holds.
pub fn any_key(object: &RawValue, wanted: &dyn Fn(&str) -> bool) -> bool {
    matches!(scan(object, wanted), Some((n, _)) if n > 0)
}

/// The string `value` holds, when it is one.
pub fn string(value: &RawValue) -> Option<String> {
    serde_json::from_str(value.get()).ok()
}

/// The items of `value`, when it is a list.
pub fn items(value: &RawValue) -> Vec<&RawValue> {
    serde_json::from_str(value.get()).unwrap_or_default()
}

/// How many keys of the object match, and the value of the last one; `None` when it is not an
/// object.
fn scan<'a>(
    object: &'a RawValue,
    wanted: &dyn Fn(&str) -> bool,
) -> Option<(usize, Option<&'a RawValue>)> {
    let mut deserializer = serde_json::Deserializer::from_str(object.get());
    deserializer.deserialize_any(Scan { wanted }).ok()
}

struct Scan<'p> {
    wanted: &'p dyn Fn(&str) -> bool,
}

impl<'de> Visitor<'de> for Scan<'_> {
    type Value = (usize, Option<&'de RawValue>);

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a JSON object")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        let (mut count, mut value) = (0, None);
        while let Some(matches) = map.next_key_seed(Key(self.wanted))? {
            if matches {
                count += 1;
                value = Some(map.next_value::<&'de RawValue>()?);
            } else {
                map.next_value::<IgnoredAny>()?;
            }
        }
        Ok((count, value))
    }
}

/// A key, tested without being copied (unless it holds escapes).
struct Key<'p>(&'p dyn Fn(&str) -> bool);

impl<'de> DeserializeSeed<'de> for Key<'_> {
    type Value = bool;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<bool, D::Error> {
        deserializer.deserialize_str(self)
    }
}

impl<'de> Visitor<'de> for Key<'_> {
    type Value = bool;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a key")
    }

    fn visit_str<E>(self, key: &str) -> Result<bool, E> {
        Ok((self.0)(key))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn raw(text: &str) -> Box<RawValue> {
        RawValue::from_string(text.to_string()).unwrap_or_else(|e| panic!("{text}: {e}"))
    }

    #[test]
    fn reads_a_field_only_of_an_object_that_has_it_once() {
        let cases = [
            (r#"{"a": 1, "b": {"c": "x"}}"#, "b", Some(r#"{"c": "x"}"#)),
            (r#"{"a": 1}"#, "b", None),
            (r#"{"b": 1, "b": 2}"#, "b", None),
            (r#"{"\u0062": true}"#, "b", Some("true")),
            (r#"["b"]"#, "b", None),
            ("null", "b", None),
            (r#""b""#, "b", None),
        ];
        for (object, key, expected) in cases {
            let object = raw(object);
            assert_eq!(
                field(&object, key).map(RawValue::get),
                expected,
                "{object} {key}"
            );
        }
        let nested = raw(r#"{"m": {"l": {"k": "v"}}}"#);
        assert_eq!(
            path(&nested, &["m", "l", "k"]).and_then(string).as_deref(),
            Some("v")
        );
        assert!(any_key(&nested, &|k| k.starts_with('m')));
        assert!(!any_key(&nested, &|k| k == "l"));
    }
}
