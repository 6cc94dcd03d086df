//! A list filter as the management API's `$filter` states it (SPEC M4): an
//! OData subset, parsed at the boundary (`web::api::filter`) into this tree
//! over an entity's own field enum, and turned into SQL only by the store.

/// A comparison.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Op {
    Eq,
    Ne,
    Gt,
    Ge,
    Lt,
    Le,
}

/// A text function: `contains(f,'x')`, `startswith(f,'x')`,
/// `endswith(f,'x')` (`substringof('x',f)` is `contains`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Func {
    Contains,
    StartsWith,
    EndsWith,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Value {
    Text(String),
    /// Unix seconds.
    Time(i64),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Filter<F> {
    Compare(F, Op, Value),
    Text(Func, F, String),
    And(Box<Filter<F>>, Box<Filter<F>>),
    Or(Box<Filter<F>>, Box<Filter<F>>),
    Not(Box<Filter<F>>),
}

impl<F> Filter<F> {
    /// Whether it searches text anywhere in a field (contains, endswith):
    /// such a filter is answered a page at a time, but counting all its
    /// matches means reading every row.
    pub fn searches_text(&self) -> bool {
        match self {
            Self::Compare(..) => false,
            Self::Text(func, ..) => *func != Func::StartsWith,
            Self::And(a, b) | Self::Or(a, b) => a.searches_text() || b.searches_text(),
            Self::Not(a) => a.searches_text(),
        }
    }
}

/// What a field holds, which decides what may be asked of it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FieldKind {
    /// Compared and searched case-insensitively.
    Text,
    /// One of a few words (a state): `eq` and `ne` only.
    Word,
    /// A date-time: comparisons, no text functions.
    Time,
}

/// The fields one list may be filtered on: their names on the wire and kinds.
pub trait FilterField: Copy + Sized {
    fn parse(name: &str) -> Option<Self>;
    fn kind(self) -> FieldKind;
}

/// Users (`GET /users`, `GET /groups/{id}/users`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UserField {
    Name,
    FirstName,
    LastName,
    Email,
    Note,
    State,
    RegistrationDate,
}

impl FilterField for UserField {
    fn parse(name: &str) -> Option<Self> {
        Some(match name {
            "name" => Self::Name,
            "firstName" => Self::FirstName,
            "lastName" => Self::LastName,
            "email" => Self::Email,
            "note" => Self::Note,
            "state" => Self::State,
            "registrationDate" => Self::RegistrationDate,
            _ => return None,
        })
    }

    fn kind(self) -> FieldKind {
        match self {
            Self::State => FieldKind::Word,
            Self::RegistrationDate => FieldKind::Time,
            _ => FieldKind::Text,
        }
    }
}

/// Groups.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GroupField {
    Name,
    DisplayName,
    Description,
    ExternalId,
}

impl FilterField for GroupField {
    fn parse(name: &str) -> Option<Self> {
        Some(match name {
            "name" => Self::Name,
            "displayName" => Self::DisplayName,
            "description" => Self::Description,
            "externalId" => Self::ExternalId,
            _ => return None,
        })
    }

    fn kind(self) -> FieldKind {
        match self {
            Self::ExternalId => FieldKind::Word,
            _ => FieldKind::Text,
        }
    }
}

/// Products.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProductField {
    Name,
    DisplayName,
    Description,
    Terms,
    State,
}

impl FilterField for ProductField {
    fn parse(name: &str) -> Option<Self> {
        Some(match name {
            "name" => Self::Name,
            "displayName" => Self::DisplayName,
            "description" => Self::Description,
            "terms" => Self::Terms,
            "state" => Self::State,
            _ => return None,
        })
    }

    fn kind(self) -> FieldKind {
        match self {
            Self::State => FieldKind::Word,
            _ => FieldKind::Text,
        }
    }
}

/// Subscriptions.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SubscriptionField {
    Name,
    DisplayName,
    State,
    UserId,
    ProductId,
}

impl FilterField for SubscriptionField {
    fn parse(name: &str) -> Option<Self> {
        Some(match name {
            "name" => Self::Name,
            "displayName" => Self::DisplayName,
            "state" => Self::State,
            "userId" | "ownerId" => Self::UserId,
            "productId" | "scope" => Self::ProductId,
            _ => return None,
        })
    }

    fn kind(self) -> FieldKind {
        match self {
            Self::State => FieldKind::Word,
            Self::UserId | Self::ProductId => FieldKind::Word,
            _ => FieldKind::Text,
        }
    }
}

/// Email templates.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TemplateField {
    Name,
}

impl FilterField for TemplateField {
    fn parse(name: &str) -> Option<Self> {
        (name == "name").then_some(Self::Name)
    }

    fn kind(self) -> FieldKind {
        FieldKind::Text
    }
}
