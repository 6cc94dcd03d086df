//! The default subject and body of each template (SPEC E1), used until an
//! administrator saves an edited one, and again after *Restore default*.

use crate::domain::email_template::EmailTemplate;

pub struct DefaultTemplate {
    pub subject: &'static str,
    pub body: &'static str,
}

pub fn default_for(template: EmailTemplate) -> DefaultTemplate {
    match template {
        EmailTemplate::Invitation => DefaultTemplate {
            subject: "You are invited to {portal_name}",
            body: "Hello {first_name} {last_name},

You have been invited to {portal_name}, where you can explore our APIs and subscribe to them.

To accept the invitation and choose your password, open this link:

{link}

The link works once. If it has expired, ask the person who invited you to send a new invitation.

If you were not expecting this invitation, you can ignore this message.

The {portal_name} team",
        },
        EmailTemplate::PasswordReset => DefaultTemplate {
            subject: "Reset your {portal_name} password",
            body: "Hello {first_name} {last_name},

Someone asked to reset the password of your {portal_name} account ({email}).

To choose a new password, open this link:

{link}

The link works once and expires soon. If you did not ask for this, you can ignore this message: your password stays as it is.

The {portal_name} team",
        },
        EmailTemplate::SignupConfirmation => DefaultTemplate {
            subject: "Confirm your email address for {portal_name}",
            body: "Hello {first_name} {last_name},

Thank you for signing up to {portal_name}. To confirm your email address and activate your account, open this link:

{link}

The link works once and expires. If you did not sign up, you can ignore this message.

The {portal_name} team",
        },
        EmailTemplate::AccountCreated => DefaultTemplate {
            subject: "Your {portal_name} account is ready",
            body: "Hello {first_name} {last_name},

An account on {portal_name} has been created for you. You sign in with your email address, {email}, and the password you were given:

{link}

The {portal_name} team",
        },
        EmailTemplate::SubscriptionApproved => DefaultTemplate {
            subject: "Your subscription to {product} is approved",
            body: "Hello {first_name} {last_name},

Your subscription to {product} on {portal_name} has been approved. Its keys are ready on My subscriptions:

{link}

The {portal_name} team",
        },
        EmailTemplate::SubscriptionRejected => DefaultTemplate {
            subject: "Your subscription request for {product}",
            body: "Hello {first_name} {last_name},

Your request to subscribe to {product} on {portal_name} was not approved. If you think this is a mistake, contact the team that runs the portal.

{link}

The {portal_name} team",
        },
        EmailTemplate::AdminSubscriptionRequested => DefaultTemplate {
            subject: "{account} asks to subscribe to {product}",
            body: "Hello {first_name} {last_name},

{account} asked to subscribe to {product} on {portal_name}. The product needs approval: approve or reject the request here:

{link}

You get this email because you chose it on the console's Notifications page.",
        },
        EmailTemplate::AdminSignedUp => DefaultTemplate {
            subject: "{account} signed up on {portal_name}",
            body: "Hello {first_name} {last_name},

{account} signed up on {portal_name}. The account becomes active once its address is confirmed:

{link}

You get this email because you chose it on the console's Notifications page.",
        },
        EmailTemplate::AdminEmailFailed => DefaultTemplate {
            subject: "A message to {account} could not be sent",
            body: "Hello {first_name} {last_name},

{portal_name} gave up sending a message to {account}. The Email log shows why, and can send it again:

{link}

You get this email because you chose it on the console's Notifications page.",
        },
        EmailTemplate::AdminAccountClosed => DefaultTemplate {
            subject: "{account} closed their account on {portal_name}",
            body: "Hello {first_name} {last_name},

{account} closed their account on {portal_name}. The account, its group memberships and its subscriptions are gone; their keys no longer pass. The audit log keeps what happened:

{link}

You get this email because you chose it on the console's Notifications page.",
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::email_template::TemplateText;

    #[test]
    fn every_default_is_a_valid_template() {
        for t in EmailTemplate::ALL {
            let d = default_for(t);
            TemplateText::parse(t, d.subject, d.body)
                .unwrap_or_else(|e| panic!("default {t:?} refused: {e:?}"));
            assert!(d.body.contains("{link}"), "{t:?} carries its link");
        }
    }
}
