//! Signing in and out of the portal, signing up (U9), forgotten passwords
//! (U8) and the profile. The self-service forms answer the same whatever
//! the address (S-4) and are limited per client address.

use actix_session::Session;
use actix_web::http::StatusCode;
use actix_web::{HttpResponse, web};
use askama::Template;
use serde::Deserialize;

use super::{Chrome, origin, require, visitor};
use crate::domain::account::NewAccount;
use crate::services::auth::{self, Realm, SignInError};
use crate::services::{Ctx, ServiceError, identity_providers, profile, signup};
use crate::web::csrf::Form;
use crate::web::errors::{WebError, ok, page, see_other};
use crate::web::forms::{Empty, Errors};
use crate::web::paths::local_path;
use crate::web::paths::portal;
use crate::web::session;

// ---- sign in and out -------------------------------------------------------------

#[derive(Template)]
#[template(path = "portal/sign_in.html")]
struct SignInPage {
    chrome: Chrome,
    email: String,
    next: String,
    error: Option<String>,
    pending: bool,
    /// The enabled identity providers: (id, name).
    providers: Vec<(String, String)>,
}

#[derive(Deserialize)]
pub struct NextQuery {
    pub next: Option<String>,
}

pub async fn sign_in_form(
    ctx: web::Data<Ctx>,
    session: Session,
    q: web::Query<NextQuery>,
) -> Result<HttpResponse, WebError> {
    let next = local_path(q.next.as_deref())
        .unwrap_or(portal::HOME)
        .to_owned();
    if visitor(&ctx, &session).await?.is_some() {
        return Ok(see_other(&next));
    }
    let target = crate::web::oidc::sign_in_form_target(&ctx, &next).await;
    let resp = ok(&SignInPage {
        chrome: Chrome::new(&session, None, "sign-in"),
        email: String::new(),
        next,
        error: None,
        pending: false,
        providers: identity_providers::sign_in_options(&ctx).await?,
    })?;
    Ok(allowing(resp, target))
}

/// A sign-in on the way to an application (OpenID) ends there: its form
/// may lead to that application's origin.
fn allowing(mut resp: HttpResponse, target: Option<String>) -> HttpResponse {
    if let Some(origin) = target {
        crate::web::headers::allow_form_target(resp.headers_mut(), &origin);
    }
    resp
}

#[derive(Deserialize)]
pub struct SignInForm {
    #[serde(default)]
    email: String,
    #[serde(default)]
    password: String,
    #[serde(default)]
    next: String,
}

pub async fn sign_in(
    ctx: web::Data<Ctx>,
    session: Session,
    Form(f): Form<SignInForm>,
) -> Result<HttpResponse, WebError> {
    let next = local_path(Some(&f.next)).unwrap_or(portal::HOME).to_owned();
    let (status, error, pending) = match auth::sign_in(&ctx, Realm::Portal, &f.email, &f.password)
        .await
    {
        Ok(signed_in) => {
            session::begin(&session, Realm::Portal, &signed_in, ctx.now());
            return Ok(see_other(&next));
        }
        Err(SignInError::Service(e)) => return Err(e.into()),
        Err(SignInError::Blocked) => (
            StatusCode::FORBIDDEN,
            "This account is blocked. Ask the portal's administrators to activate it.",
            false,
        ),
        Err(SignInError::Pending) => (
            StatusCode::FORBIDDEN,
            "This account is not active yet: open the link in the confirmation email we sent you.",
            true,
        ),
        Err(_) => (
            StatusCode::UNAUTHORIZED,
            "The email address or password is not right.",
            false,
        ),
    };
    let target = crate::web::oidc::sign_in_form_target(&ctx, &next).await;
    let resp = page(
        status,
        &SignInPage {
            chrome: Chrome::new(&session, None, "sign-in"),
            email: f.email,
            next,
            error: Some(error.into()),
            pending,
            providers: identity_providers::sign_in_options(&ctx).await?,
        },
    )?;
    Ok(allowing(resp, target))
}

pub async fn sign_out(
    ctx: web::Data<Ctx>,
    session: Session,
    _: Form<Empty>,
) -> Result<HttpResponse, WebError> {
    if let Some(user) = session::user(&session, Realm::Portal) {
        auth::sign_out(&ctx, &user.sid, user.since).await?;
    }
    session::end(&session, Realm::Portal);
    Ok(see_other(portal::HOME))
}

// ---- the self-service forms --------------------------------------------------------

/// The answer to every self-service request, whatever the address (S-4).
#[derive(Template)]
#[template(path = "portal/check_email.html")]
struct CheckEmail {
    chrome: Chrome,
    title: &'static str,
    message: String,
}

#[derive(Template)]
#[template(path = "portal/too_many.html")]
struct TooMany {
    chrome: Chrome,
    minutes: i64,
}

/// The per-client limit: `Some(response)` when this client must wait.
async fn held_back(ctx: &Ctx, session: &Session) -> Option<Result<HttpResponse, WebError>> {
    let client = crate::web::request::current_client();
    let wait = match crate::services::client_limit::allow(ctx, client, ctx.now()).await {
        Ok(allowed) => allowed.err()?,
        Err(e) => return Some(Err(e.into())),
    };
    tracing::warn!(client = ?client, "self-service request refused: client over its limit");
    Some(page(
        StatusCode::TOO_MANY_REQUESTS,
        &TooMany {
            chrome: Chrome::new(session, None, ""),
            minutes: (wait + 59) / 60,
        },
    ))
}

#[derive(Template)]
#[template(path = "portal/sign_up.html")]
struct SignUpPage {
    chrome: Chrome,
    email: String,
    first_name: String,
    last_name: String,
    errors: Errors,
}

pub async fn sign_up_form(ctx: web::Data<Ctx>, session: Session) -> Result<HttpResponse, WebError> {
    if visitor(&ctx, &session).await?.is_some() {
        return Ok(see_other(portal::HOME));
    }
    ok(&SignUpPage {
        chrome: Chrome::new(&session, None, "sign-up"),
        email: String::new(),
        first_name: String::new(),
        last_name: String::new(),
        errors: Errors::default(),
    })
}

#[derive(Deserialize)]
pub struct SignUpForm {
    #[serde(default)]
    email: String,
    #[serde(default)]
    first_name: String,
    #[serde(default)]
    last_name: String,
    #[serde(default)]
    password: String,
    #[serde(default)]
    confirm: String,
}

pub async fn sign_up(
    ctx: web::Data<Ctx>,
    session: Session,
    Form(f): Form<SignUpForm>,
) -> Result<HttpResponse, WebError> {
    let parsed = NewAccount::parse(&f.email, &f.password, &f.first_name, &f.last_name);
    let mismatch = f.password != f.confirm;
    let new = match parsed {
        Ok(new) if !mismatch => new,
        other => {
            let mut errors = other.err().unwrap_or_default();
            if mismatch && !errors.iter().any(|e| e.field == "password") {
                errors.push(crate::domain::FieldError::new(
                    "confirm",
                    "The two passwords are not the same.",
                ));
            }
            return page(
                StatusCode::UNPROCESSABLE_ENTITY,
                &SignUpPage {
                    chrome: Chrome::new(&session, None, "sign-up"),
                    email: f.email,
                    first_name: f.first_name,
                    last_name: f.last_name,
                    errors: Errors(errors),
                },
            );
        }
    };
    if let Some(r) = held_back(&ctx, &session).await {
        return r;
    }
    let email = new.email.as_str().to_owned();
    signup::sign_up(&ctx, origin(), new).await?;
    ok(&CheckEmail {
        chrome: Chrome::new(&session, None, "sign-up"),
        title: "Check your email",
        message: format!(
            "We sent a link to {email}. Open it to confirm your address and activate your account. If nothing arrives in a few minutes, look in your spam folder or ask for a new link."
        ),
    })
}

#[derive(Template)]
#[template(path = "portal/email_form.html")]
struct EmailForm {
    chrome: Chrome,
    title: &'static str,
    intro: &'static str,
    action: &'static str,
    button: &'static str,
    email: String,
    error: String,
}

/// The two forms that ask only for an address and answer "check your email"
/// whatever it is (S-4).
#[derive(Clone, Copy)]
enum EmailRequest {
    ResendConfirmation,
    ForgotPassword,
}

impl EmailRequest {
    fn form(self, session: &Session, email: String, error: String) -> EmailForm {
        let (title, intro, action, button) = match self {
            Self::ResendConfirmation => (
                "Resend the confirmation email",
                "Enter the address you signed up with. If its account still waits for confirmation, we send a new link; the old one stops working.",
                portal::SIGN_UP_RESEND,
                "Resend confirmation",
            ),
            Self::ForgotPassword => (
                "Forgot your password?",
                "Enter your account's email address. If it belongs to an active account, we send a link to choose a new password. The link works for 20 minutes.",
                portal::FORGOT_PASSWORD,
                "Send reset link",
            ),
        };
        EmailForm {
            chrome: Chrome::new(session, None, "sign-in"),
            title,
            intro,
            action,
            button,
            email,
            error,
        }
    }

    fn answer(self, email: &str) -> String {
        match self {
            Self::ResendConfirmation => format!(
                "If {email} belongs to an account waiting for confirmation, a new link is on its way. Links from earlier emails no longer work."
            ),
            Self::ForgotPassword => format!(
                "If {email} belongs to an active account, we sent it a link to choose a new password. The link works for 20 minutes."
            ),
        }
    }

    async fn perform(self, ctx: &Ctx, email: &str) -> Result<(), ServiceError> {
        match self {
            Self::ResendConfirmation => signup::resend_confirmation(ctx, email).await,
            Self::ForgotPassword => signup::forgot_password(ctx, email).await,
        }
    }

    /// Only the shape of the address is checked here: whether an account
    /// has it must not show.
    async fn submit(
        self,
        ctx: &Ctx,
        session: &Session,
        email: String,
    ) -> Result<HttpResponse, WebError> {
        if let Err(m) = crate::domain::Email::parse(&email) {
            return page(
                StatusCode::UNPROCESSABLE_ENTITY,
                &self.form(session, email, m),
            );
        }
        if let Some(r) = held_back(ctx, session).await {
            return r;
        }
        self.perform(ctx, &email).await?;
        ok(&CheckEmail {
            chrome: Chrome::new(session, None, "sign-in"),
            title: "Check your email",
            message: self.answer(email.trim()),
        })
    }
}

#[derive(Deserialize)]
pub struct EmailOnly {
    #[serde(default)]
    email: String,
}

pub async fn resend_form(session: Session) -> Result<HttpResponse, WebError> {
    ok(&EmailRequest::ResendConfirmation.form(&session, String::new(), String::new()))
}

pub async fn forgot_form(session: Session) -> Result<HttpResponse, WebError> {
    ok(&EmailRequest::ForgotPassword.form(&session, String::new(), String::new()))
}

pub async fn resend(
    ctx: web::Data<Ctx>,
    session: Session,
    Form(f): Form<EmailOnly>,
) -> Result<HttpResponse, WebError> {
    EmailRequest::ResendConfirmation
        .submit(&ctx, &session, f.email)
        .await
}

pub async fn forgot(
    ctx: web::Data<Ctx>,
    session: Session,
    Form(f): Form<EmailOnly>,
) -> Result<HttpResponse, WebError> {
    EmailRequest::ForgotPassword
        .submit(&ctx, &session, f.email)
        .await
}

// ---- profile -------------------------------------------------------------------

#[derive(Template)]
#[template(path = "portal/profile.html")]
struct ProfilePage {
    chrome: Chrome,
    email: String,
    first_name: String,
    last_name: String,
    errors: Errors,
}

pub async fn profile(ctx: web::Data<Ctx>, session: Session) -> Result<HttpResponse, WebError> {
    let who = require(visitor(&ctx, &session).await?, portal::PROFILE)?;
    let chrome = Chrome::new(&session, Some(&who), "profile");
    ok(&ProfilePage {
        chrome,
        email: who.email,
        first_name: who.first_name,
        last_name: who.last_name,
        errors: Errors::default(),
    })
}

#[derive(Deserialize)]
pub struct NamesForm {
    #[serde(default)]
    first_name: String,
    #[serde(default)]
    last_name: String,
}

pub async fn update_profile(
    ctx: web::Data<Ctx>,
    session: Session,
    Form(f): Form<NamesForm>,
) -> Result<HttpResponse, WebError> {
    let who = require(visitor(&ctx, &session).await?, portal::PROFILE)?;
    match profile::update_names(&ctx, origin(), &who.id, &f.first_name, &f.last_name).await {
        Ok(_) => {
            session::flash(&session, "success", "Your profile is saved.");
            Ok(see_other(portal::PROFILE))
        }
        Err(ServiceError::Invalid(errors)) => page(
            StatusCode::UNPROCESSABLE_ENTITY,
            &ProfilePage {
                chrome: Chrome::new(&session, Some(&who), "profile"),
                email: who.email,
                first_name: f.first_name,
                last_name: f.last_name,
                errors: Errors(errors),
            },
        ),
        Err(e) => Err(e.into()),
    }
}

#[derive(Deserialize)]
pub struct PasswordChange {
    #[serde(default)]
    current_password: String,
    #[serde(default)]
    password: String,
    #[serde(default)]
    confirm: String,
}

pub async fn change_password(
    ctx: web::Data<Ctx>,
    session: Session,
    Form(f): Form<PasswordChange>,
) -> Result<HttpResponse, WebError> {
    let who = require(visitor(&ctx, &session).await?, portal::PROFILE)?;
    match profile::change_password(
        &ctx,
        origin(),
        &who.id,
        &f.current_password,
        &f.password,
        &f.confirm,
    )
    .await
    {
        Ok(epoch) => {
            session::set_epoch(&session, Realm::Portal, epoch);
            session::flash(
                &session,
                "success",
                "Your password is changed. Everywhere else this account was signed in, it is now signed out.",
            );
            Ok(see_other(portal::PROFILE))
        }
        Err(ServiceError::Invalid(errors)) => page(
            StatusCode::UNPROCESSABLE_ENTITY,
            &ProfilePage {
                chrome: Chrome::new(&session, Some(&who), "profile"),
                email: who.email,
                first_name: who.first_name,
                last_name: who.last_name,
                errors: Errors(errors),
            },
        ),
        Err(e) => Err(e.into()),
    }
}
