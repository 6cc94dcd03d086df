//! `$filter` (SPEC M4): the OData subset the commercial management API
//! documents, parsed into `domain::query::Filter`:
//!
//! ```text
//! expr    := and ("or" and)*
//! and     := unary ("and" unary)*
//! unary   := "not" unary | "(" expr ")" | func | field op literal
//! func    := (contains|startswith|endswith) "(" field "," string ")"
//!          | substringof "(" string "," field ")"
//! op      := eq | ne | gt | ge | lt | le
//! literal := 'text' ('' for a quote) | a date or date-time (2024-05-01, 2024-05-01T10:00:00Z)
//! ```
//!
//! Bounded so no request can make it work hard: at most 1,000 characters,
//! 20 conditions and 10 levels of nesting. Every refusal says what is wrong.

use crate::domain::query::{FieldKind, Filter, FilterField, Func, Op, Value};

const MAX_LEN: usize = 1_000;
const MAX_TERMS: usize = 20;
const MAX_DEPTH: usize = 10;

#[derive(Debug, Clone, PartialEq)]
enum Token {
    Word(String),
    Text(String),
    Open,
    Close,
    Comma,
}

fn tokens(s: &str) -> Result<Vec<Token>, String> {
    let mut out = Vec::new();
    let mut chars = s.chars().peekable();
    while let Some(&c) = chars.peek() {
        match c {
            c if c.is_whitespace() => {
                chars.next();
            }
            '(' => {
                chars.next();
                out.push(Token::Open);
            }
            ')' => {
                chars.next();
                out.push(Token::Close);
            }
            ',' => {
                chars.next();
                out.push(Token::Comma);
            }
            '\'' => {
                chars.next();
                let mut text = String::new();
                loop {
                    match chars.next() {
                        Some('\'') if chars.peek() == Some(&'\'') => {
                            chars.next();
                            text.push('\'');
                        }
                        Some('\'') => break,
                        Some(c) => text.push(c),
                        None => return Err("A quoted text is not closed.".into()),
                    }
                }
                out.push(Token::Text(text));
            }
            c if c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | ':' | '.' | '+') => {
                let mut word = String::new();
                while let Some(&c) = chars.peek() {
                    if c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | ':' | '.' | '+') {
                        word.push(c);
                        chars.next();
                    } else {
                        break;
                    }
                }
                out.push(Token::Word(word));
            }
            other => return Err(format!("Unexpected character {other:?}.")),
        }
    }
    Ok(out)
}

struct Parser<F> {
    tokens: Vec<Token>,
    at: usize,
    terms: usize,
    _field: std::marker::PhantomData<F>,
}

/// Parses `$filter` for the fields `F`.
pub fn parse<F: FilterField>(s: &str) -> Result<Filter<F>, String> {
    if s.chars().count() > MAX_LEN {
        return Err(format!("$filter has at most {MAX_LEN} characters."));
    }
    let mut p = Parser::<F> {
        tokens: tokens(s)?,
        at: 0,
        terms: 0,
        _field: std::marker::PhantomData,
    };
    if p.tokens.is_empty() {
        return Err("$filter is empty.".into());
    }
    let f = p.expr(0)?;
    match p.tokens.get(p.at) {
        None => Ok(f),
        Some(t) => Err(format!(
            "Unexpected {} after the end of the filter.",
            describe(t)
        )),
    }
}

fn describe(t: &Token) -> String {
    match t {
        Token::Word(w) => format!("'{w}'"),
        Token::Text(t) => format!("text '{t}'"),
        Token::Open => "'('".into(),
        Token::Close => "')'".into(),
        Token::Comma => "','".into(),
    }
}

impl<F: FilterField> Parser<F> {
    fn peek_word(&self, w: &str) -> bool {
        matches!(self.tokens.get(self.at), Some(Token::Word(x)) if x.eq_ignore_ascii_case(w))
    }

    fn next(&mut self) -> Option<Token> {
        let t = self.tokens.get(self.at).cloned();
        self.at += 1;
        t
    }

    fn expect(&mut self, want: Token) -> Result<(), String> {
        match self.next() {
            Some(t) if t == want => Ok(()),
            Some(t) => Err(format!(
                "Expected {} but found {}.",
                describe(&want),
                describe(&t)
            )),
            None => Err(format!("Expected {} at the end.", describe(&want))),
        }
    }

    fn expr(&mut self, depth: usize) -> Result<Filter<F>, String> {
        if depth > MAX_DEPTH {
            return Err(format!("$filter nests at most {MAX_DEPTH} levels."));
        }
        let mut left = self.and(depth)?;
        while self.peek_word("or") {
            self.at += 1;
            let right = self.and(depth)?;
            left = Filter::Or(Box::new(left), Box::new(right));
        }
        Ok(left)
    }

    fn and(&mut self, depth: usize) -> Result<Filter<F>, String> {
        let mut left = self.unary(depth)?;
        while self.peek_word("and") {
            self.at += 1;
            let right = self.unary(depth)?;
            left = Filter::And(Box::new(left), Box::new(right));
        }
        Ok(left)
    }

    fn unary(&mut self, depth: usize) -> Result<Filter<F>, String> {
        if self.peek_word("not") {
            self.at += 1;
            return Ok(Filter::Not(Box::new(self.unary(depth + 1)?)));
        }
        if self.tokens.get(self.at) == Some(&Token::Open) {
            self.at += 1;
            let inner = self.expr(depth + 1)?;
            self.expect(Token::Close)?;
            return Ok(inner);
        }
        self.terms += 1;
        if self.terms > MAX_TERMS {
            return Err(format!("$filter has at most {MAX_TERMS} conditions."));
        }
        let name = match self.next() {
            Some(Token::Word(w)) => w,
            Some(t) => {
                return Err(format!(
                    "Expected a field or a function, found {}.",
                    describe(&t)
                ));
            }
            None => return Err("The filter ends where a condition should be.".into()),
        };
        let func = match name.to_ascii_lowercase().as_str() {
            "contains" => Some(Func::Contains),
            "startswith" => Some(Func::StartsWith),
            "endswith" => Some(Func::EndsWith),
            "substringof" => {
                self.expect(Token::Open)?;
                let text = self.text()?;
                self.expect(Token::Comma)?;
                let field = self.field()?;
                self.expect(Token::Close)?;
                return text_filter(Func::Contains, field, text);
            }
            _ => None,
        };
        if let Some(func) = func {
            self.expect(Token::Open)?;
            let field = self.field()?;
            self.expect(Token::Comma)?;
            let text = self.text()?;
            self.expect(Token::Close)?;
            return text_filter(func, field, text);
        }
        let field = field_named::<F>(&name)?;
        let op = match self.next() {
            Some(Token::Word(w)) => match w.to_ascii_lowercase().as_str() {
                "eq" => Op::Eq,
                "ne" => Op::Ne,
                "gt" => Op::Gt,
                "ge" => Op::Ge,
                "lt" => Op::Lt,
                "le" => Op::Le,
                _ => {
                    return Err(format!(
                        "'{w}' is not an operator (eq, ne, gt, ge, lt, le)."
                    ));
                }
            },
            Some(t) => {
                return Err(format!(
                    "Expected an operator after {name}, found {}.",
                    describe(&t)
                ));
            }
            None => return Err(format!("Expected an operator after {name}.")),
        };
        let value = match (field.kind(), self.next()) {
            (FieldKind::Time, Some(Token::Word(w) | Token::Text(w))) => Value::Time(
                parse_time(&w).ok_or_else(|| format!("'{w}' is not a date or date-time."))?,
            ),
            (FieldKind::Time, _) => return Err(format!("{name} is compared with a date.")),
            (_, Some(Token::Text(t))) => Value::Text(t),
            (_, Some(Token::Word(w))) if w.eq_ignore_ascii_case("null") => {
                return Err(format!("{name} cannot be compared with null."));
            }
            (_, _) => return Err(format!("{name} is compared with a quoted text.")),
        };
        if field.kind() == FieldKind::Word && !matches!(op, Op::Eq | Op::Ne) {
            return Err(format!("{name} takes only eq and ne."));
        }
        Ok(Filter::Compare(field, op, value))
    }

    fn field(&mut self) -> Result<F, String> {
        match self.next() {
            Some(Token::Word(w)) => field_named::<F>(&w),
            Some(t) => Err(format!("Expected a field, found {}.", describe(&t))),
            None => Err("Expected a field at the end.".into()),
        }
    }

    fn text(&mut self) -> Result<String, String> {
        match self.next() {
            Some(Token::Text(t)) => Ok(t),
            Some(t) => Err(format!("Expected a quoted text, found {}.", describe(&t))),
            None => Err("Expected a quoted text at the end.".into()),
        }
    }
}

fn field_named<F: FilterField>(name: &str) -> Result<F, String> {
    F::parse(name).ok_or_else(|| format!("This list cannot be filtered by '{name}'."))
}

fn text_filter<F: FilterField>(func: Func, field: F, text: String) -> Result<Filter<F>, String> {
    if field.kind() != FieldKind::Text {
        return Err("Text functions apply to text fields only.".into());
    }
    Ok(Filter::Text(func, field, text))
}

/// `2024-05-01`, `2024-05-01T10:00:00Z`, `2024-05-01T10:00:00.123+02:00`.
fn parse_time(s: &str) -> Option<i64> {
    use time::format_description::well_known::Rfc3339;
    use time::{Date, OffsetDateTime, macros::format_description};
    if let Ok(t) = OffsetDateTime::parse(s, &Rfc3339) {
        return Some(t.unix_timestamp());
    }
    Date::parse(s, format_description!("[year]-[month]-[day]"))
        .ok()
        .map(|d| d.midnight().assume_utc().unix_timestamp())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::query::UserField;

    fn p(s: &str) -> Result<Filter<UserField>, String> {
        parse::<UserField>(s)
    }

    #[test]
    fn the_documented_forms() {
        assert_eq!(
            p("email eq 'a@b.org'").unwrap(),
            Filter::Compare(UserField::Email, Op::Eq, Value::Text("a@b.org".into()))
        );
        assert_eq!(
            p("contains(email,'son')").unwrap(),
            Filter::Text(Func::Contains, UserField::Email, "son".into())
        );
        assert_eq!(
            p("substringof('son', lastName)").unwrap(),
            Filter::Text(Func::Contains, UserField::LastName, "son".into())
        );
        assert!(matches!(
            p("startswith(firstName,'A') and state eq 'active' or not (endswith(email,'.org'))")
                .unwrap(),
            Filter::Or(..)
        ));
        assert_eq!(
            p("registrationDate ge 2024-05-01").unwrap(),
            Filter::Compare(
                UserField::RegistrationDate,
                Op::Ge,
                Value::Time(1_714_521_600)
            )
        );
        assert_eq!(
            p("lastName eq 'O''Brien'").unwrap(),
            Filter::Compare(UserField::LastName, Op::Eq, Value::Text("O'Brien".into()))
        );
    }

    #[test]
    fn malformed_filters_are_refused_with_a_reason() {
        for bad in [
            "",
            "email",
            "email eq",
            "email eq 'x",
            "email like 'x'",
            "password eq 'x'",
            "state gt 'active'",
            "contains(registrationDate,'1')",
            "registrationDate ge 'yesterday'",
            "(email eq 'x'",
            "email eq 'x')",
            "email eq 'x' and",
            "email eq null",
            "email eq 'x'; DROP TABLE accounts",
        ] {
            let e = p(bad).unwrap_err();
            assert!(!e.is_empty(), "{bad:?}");
        }
        let deep = format!("{}email eq 'x'{}", "(".repeat(20), ")".repeat(20));
        assert!(p(&deep).unwrap_err().contains("nests"));
        let many = vec!["email eq 'x'"; 21].join(" or ");
        assert!(p(&many).unwrap_err().contains("conditions"));
    }

    proptest::proptest! {
        #[test]
        fn never_panics(s in "\\PC{0,200}") {
            let _ = p(&s);
        }
    }
}
