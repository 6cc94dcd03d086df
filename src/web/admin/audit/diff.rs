//! An audit entry's values before and after, readably: the fields that
//! changed between two objects, else each side on its own.

use std::collections::BTreeSet;

use serde_json::Value;

/// One field that changed.
pub struct Changed {
    pub field: String,
    pub before: String,
    pub after: String,
}

/// The values of one side (before or after) when there is nothing to compare.
pub struct Side {
    pub title: &'static str,
    pub fields: Vec<(String, String)>,
    pub text: Option<String>,
}

#[derive(Default)]
pub struct Values {
    pub changed: Vec<Changed>,
    pub sides: Vec<Side>,
}

/// A stored JSON value; text that is not JSON is shown as it is.
fn parse_json(raw: Option<&str>) -> Option<Value> {
    raw.map(|r| serde_json::from_str(r).unwrap_or_else(|_| Value::String(r.to_owned())))
}

/// `first_name` → `First name`.
fn field_label(key: &str) -> String {
    let spaced = key.replace('_', " ");
    let mut chars = spaced.chars();
    match chars.next() {
        Some(c) => c.to_uppercase().chain(chars).collect(),
        None => String::new(),
    }
}

fn value_text(v: &Value) -> String {
    match v {
        Value::Null => "(none)".into(),
        Value::String(s) if s.is_empty() => "(empty)".into(),
        Value::String(s) => s.clone(),
        Value::Bool(true) => "yes".into(),
        Value::Bool(false) => "no".into(),
        Value::Number(n) => n.to_string(),
        Value::Array(items) if items.is_empty() => "(none)".into(),
        Value::Array(items) => items.iter().map(value_text).collect::<Vec<_>>().join(", "),
        Value::Object(_) => v.to_string(),
    }
}

fn side(title: &'static str, v: &Value) -> Side {
    match v {
        Value::Object(map) => Side {
            title,
            fields: map
                .iter()
                .map(|(k, v)| (field_label(k), value_text(v)))
                .collect(),
            text: None,
        },
        other => Side {
            title,
            fields: Vec::new(),
            text: Some(value_text(other)),
        },
    }
}

/// The values before and after, readably: the changed fields of two
/// objects, else each side on its own.
pub(super) fn describe(before: Option<&str>, after: Option<&str>) -> Values {
    match (parse_json(before), parse_json(after)) {
        (Some(Value::Object(b)), Some(Value::Object(a))) => {
            let keys: BTreeSet<&String> = b.keys().chain(a.keys()).collect();
            let none = Value::Null;
            Values {
                changed: keys
                    .into_iter()
                    .filter_map(|k| {
                        let (old, new) = (b.get(k).unwrap_or(&none), a.get(k).unwrap_or(&none));
                        (old != new).then(|| Changed {
                            field: field_label(k),
                            before: value_text(old),
                            after: value_text(new),
                        })
                    })
                    .collect(),
                sides: Vec::new(),
            }
        }
        (b, a) => Values {
            changed: Vec::new(),
            sides: [("Before", b), ("After", a)]
                .into_iter()
                .filter_map(|(title, v)| v.map(|v| side(title, &v)))
                .collect(),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_show_what_changed() {
        let v = describe(
            Some(r#"{"email":"a@x.org","state":"active"}"#),
            Some(r#"{"email":"a@x.org","state":"blocked"}"#),
        );
        assert_eq!(v.changed.len(), 1);
        assert_eq!(v.changed[0].field, "State");
        assert_eq!(v.changed[0].before, "active");
        assert_eq!(v.changed[0].after, "blocked");
        assert!(v.sides.is_empty());

        let v = describe(None, Some(r#"{"first_name":"Ann","note":null}"#));
        assert!(v.changed.is_empty());
        assert_eq!(v.sides.len(), 1);
        assert_eq!(v.sides[0].title, "After");
        assert_eq!(
            v.sides[0].fields,
            [
                ("First name".to_owned(), "Ann".to_owned()),
                ("Note".to_owned(), "(none)".to_owned())
            ]
        );

        let v = describe(Some("not json <b>"), Some("42"));
        assert_eq!(v.sides[0].text.as_deref(), Some("not json <b>"));
        assert_eq!(v.sides[1].text.as_deref(), Some("42"));
    }
}
