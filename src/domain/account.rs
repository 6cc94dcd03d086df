use std::fmt;

/// SPEC U2.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AccountState {
    Active,
    Blocked,
    Pending,
}

impl AccountState {
    pub const ALL: [AccountState; 3] = [Self::Active, Self::Blocked, Self::Pending];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Active => "active",
            Self::Blocked => "blocked",
            Self::Pending => "pending",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|st| st.as_str() == s)
    }

    pub fn label(self) -> &'static str {
        match self {
            Self::Active => "Active",
            Self::Blocked => "Blocked",
            Self::Pending => "Pending",
        }
    }

    pub fn is_active(self) -> bool {
        self == Self::Active
    }

    /// U5: Block applies to any account not blocked already.
    pub fn may_block(self) -> bool {
        self != Self::Blocked
    }

    /// U5: Activate applies to a blocked account, and to a pending one
    /// (an administrator may let it in without its confirmation).
    pub fn may_activate(self) -> bool {
        self != Self::Active
    }
}

stored_as_words!(AccountState);

/// S-14 and P3: an administrator counts as one (sees everything, keeps the
/// console open, is the last one standing) only while active.
pub fn is_active_administrator(is_admin: bool, state: AccountState) -> bool {
    is_admin && state.is_active()
}

impl fmt::Display for AccountState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.label())
    }
}

/// S-3: after this many failures in a row, each attempt waits.
pub const FREE_SIGNIN_FAILURES: i64 = 5;
/// S-3: the longest wait between attempts.
pub const MAX_SIGNIN_DELAY_SECS: i64 = 15 * 60;

/// S-3: how long an account must wait after `failures` failed sign-ins in a
/// row: nothing for the first five, then 1 s, 2 s, 4 s … capped at 15 minutes.
pub fn signin_delay_secs(failures: i64) -> i64 {
    if failures < FREE_SIGNIN_FAILURES {
        return 0;
    }
    let doublings = (failures - FREE_SIGNIN_FAILURES).min(20) as u32;
    (1i64 << doublings).min(MAX_SIGNIN_DELAY_SECS)
}

/// The Add user form of the console (SPEC U3), parsed.
pub struct NewAccount {
    pub email: super::Email,
    pub password: super::Password,
    pub first_name: super::PersonName,
    pub last_name: super::PersonName,
}

impl NewAccount {
    pub fn parse(
        email: &str,
        password: &str,
        first_name: &str,
        last_name: &str,
    ) -> Result<Self, Vec<super::FieldError>> {
        let mut errors = super::FieldErrors::default();
        let email = errors.take("email", super::Email::parse(email));
        let first = errors.take(
            "first_name",
            super::PersonName::parse(first_name, "first name"),
        );
        let last = errors.take(
            "last_name",
            super::PersonName::parse(last_name, "last name"),
        );
        let password = errors.take(
            "password",
            super::Password::parse(
                password,
                &[email_related(email.as_ref()), first_name, last_name],
            ),
        );
        match (email, password, first, last) {
            (Some(email), Some(password), Some(first_name), Some(last_name))
                if errors.is_empty() =>
            {
                Ok(Self {
                    email,
                    password,
                    first_name,
                    last_name,
                })
            }
            _ => Err(errors.0),
        }
    }
}

fn email_related(email: Option<&super::Email>) -> &str {
    email.map(|e| e.as_str()).unwrap_or("")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn which_states_may_be_blocked_or_activated() {
        use AccountState::*;
        assert_eq!(
            AccountState::ALL.map(AccountState::may_block),
            [true, false, true]
        );
        assert_eq!(
            AccountState::ALL.map(AccountState::may_activate),
            [false, true, true]
        );
        assert!(is_active_administrator(true, Active));
        assert!(!is_active_administrator(true, Blocked));
        assert!(!is_active_administrator(false, Active));
        for s in AccountState::ALL {
            assert_eq!(AccountState::try_from(s.as_str().to_owned()), Ok(s));
            let json = serde_json::to_string(&s).unwrap();
            assert_eq!(serde_json::from_str::<AccountState>(&json).unwrap(), s);
        }
        assert!(AccountState::try_from("deleted".to_owned()).is_err());
    }

    #[test]
    fn delays_double_and_cap() {
        let d: Vec<i64> = (0..8).map(signin_delay_secs).collect();
        assert_eq!(d, [0, 0, 0, 0, 0, 1, 2, 4]);
        assert_eq!(signin_delay_secs(1_000), MAX_SIGNIN_DELAY_SECS);
    }

    #[test]
    fn at_most_100_attempts_an_hour() {
        // Attacker retries the instant each wait ends.
        let (mut t, mut failures, mut attempts) = (0i64, 0i64, 0);
        while t < 3600 {
            attempts += 1;
            failures += 1;
            t += signin_delay_secs(failures);
        }
        assert!(attempts <= 100, "{attempts} attempts in an hour");
    }
}
