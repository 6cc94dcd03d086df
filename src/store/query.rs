//! A `domain::query::Filter` as SQL: each entity's list says which column
//! (or expression) a field is; values are always bound, never spliced in.
//! The SQL is the same for SQLite and PostgreSQL (`QueryBuilder` writes
//! each one's placeholders).

use sqlx::{Database, Encode, QueryBuilder, Type};

use crate::domain::query::{Filter, Func, Op, Value};

/// Appends `filter` as one parenthesised condition, each field written as
/// `column(field)`. Text is compared case-insensitively.
pub(crate) fn push_filter<DB: Database, F: Copy>(
    qb: &mut QueryBuilder<DB>,
    filter: &Filter<F>,
    column: &impl Fn(F) -> &'static str,
) where
    for<'t> String: Encode<'t, DB> + Type<DB>,
    for<'t> i64: Encode<'t, DB> + Type<DB>,
{
    qb.push("(");
    match filter {
        Filter::Compare(field, op, value) => {
            let op = match op {
                Op::Eq => " = ",
                Op::Ne => " <> ",
                Op::Gt => " > ",
                Op::Ge => " >= ",
                Op::Lt => " < ",
                Op::Le => " <= ",
            };
            match value {
                Value::Text(t) => {
                    qb.push("lower(")
                        .push(column(*field))
                        .push(")")
                        .push(op)
                        .push("lower(")
                        .push_bind(t.clone())
                        .push(")");
                }
                Value::Time(t) => {
                    qb.push(column(*field)).push(op).push_bind(*t);
                }
            }
        }
        Filter::Text(func, field, text) => {
            let escaped = text
                .replace('\\', "\\\\")
                .replace('%', "\\%")
                .replace('_', "\\_");
            let pattern = match func {
                Func::Contains => format!("%{escaped}%"),
                Func::StartsWith => format!("{escaped}%"),
                Func::EndsWith => format!("%{escaped}"),
            };
            qb.push("lower(coalesce(")
                .push(column(*field))
                .push(", '')) LIKE lower(")
                .push_bind(pattern)
                .push(") ESCAPE '\\'");
        }
        Filter::And(a, b) => {
            push_filter(qb, a, column);
            qb.push(" AND ");
            push_filter(qb, b, column);
        }
        Filter::Or(a, b) => {
            push_filter(qb, a, column);
            qb.push(" OR ");
            push_filter(qb, b, column);
        }
        Filter::Not(a) => {
            qb.push("NOT ");
            push_filter(qb, a, column);
        }
    }
    qb.push(")");
}

/// The tail of a management API list (M4): ` AND <filter>` when there is
/// one, and, for a page (`(offset, limit)`), its order and bounds.
pub(crate) fn push_filter_and_page<DB: Database, F: Copy>(
    qb: &mut QueryBuilder<DB>,
    filter: Option<&Filter<F>>,
    column: &impl Fn(F) -> &'static str,
    order_by: &str,
    page: Option<(i64, i64)>,
) where
    for<'t> String: Encode<'t, DB> + Type<DB>,
    for<'t> i64: Encode<'t, DB> + Type<DB>,
{
    if let Some(f) = filter {
        qb.push(" AND ");
        push_filter(qb, f, column);
    }
    if let Some((offset, limit)) = page {
        qb.push(" ORDER BY ")
            .push(order_by)
            .push(" LIMIT ")
            .push_bind(limit)
            .push(" OFFSET ")
            .push_bind(offset);
    }
}
