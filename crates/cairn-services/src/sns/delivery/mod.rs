//! The delivery worker: a consumer of the SNS outbox (not of the journal), run on the
//! server's cadence and by the test clock. Each round takes the deliveries that are due,
//! renders each for its subscription's protocol (signed envelope, raw message, email), sends
//! it (`http`, `email`, `sqs`), and removes it once made, or schedules the next attempt per
//! the delivery policy (`retry`), giving it up when the policy is spent. A delivery leaves
//! the outbox only after it was made, so a crash at any point delivers it again (AWS's
//! at-least-once).

mod email;
mod function;
mod http;
pub(crate) mod retry;
mod sqs;

use std::path::PathBuf;
use std::sync::Arc;

use cairn_store::StoreError;
use cairn_store::journal::{Consumer, Round};
use cairn_store::sns::{Delivery, Subscription, Topic};
use serde_json::Value;

use super::message::{self, envelope, field};
use super::signing::SignerCell;
use crate::app::App;

/// Deliveries taken per batch, and batches per round at most.
const BATCH: usize = 100;
const BATCHES_PER_ROUND: usize = 20;

/// Delivers what SNS owes its subscribers.
pub struct Deliverer {
    app: Arc<App>,
    /// cairn's own endpoint: links in messages (SubscribeURL, UnsubscribeURL,
    /// SigningCertURL) and queue URLs point there.
    base_url: String,
    /// Where email and email-json messages are written.
    mailbox: PathBuf,
    signer: SignerCell,
}

/// What a failed attempt says.
type Failure = String;

impl Deliverer {
    pub fn new(app: Arc<App>, base_url: &str, mailbox: PathBuf) -> Deliverer {
        Deliverer {
            app,
            base_url: base_url.trim_end_matches('/').to_owned(),
            mailbox,
            signer: SignerCell::default(),
        }
    }

    /// Runs the deliveries due now; how many were made.
    pub fn run_once(&self) -> Result<u64, StoreError> {
        let mut made = 0;
        for _ in 0..BATCHES_PER_ROUND {
            let now = self.app.clock.now_millis();
            let due = self.app.sns.due(now, BATCH)?;
            for d in &due {
                made += u64::from(self.attempt(d)?);
            }
            if due.len() < BATCH {
                break;
            }
        }
        Ok(made)
    }

    /// One attempt at one delivery: `true` when it was made.
    fn attempt(&self, d: &Delivery) -> Result<bool, StoreError> {
        let sns = &self.app.sns;
        let (Some(sub), Some(topic)) = (
            sns.subscription(&d.subscription_arn)?,
            sns.topic(&d.topic_arn)?,
        ) else {
            // Unsubscribed or deleted meanwhile: nothing is owed any more.
            sns.finish(d.id)?;
            return Ok(false);
        };
        let Ok(payload) = serde_json::from_str::<Value>(&d.payload) else {
            tracing::error!(id = d.id, "an SNS delivery that does not parse; dropped");
            sns.finish(d.id)?;
            return Ok(false);
        };
        match self.send(&topic, &sub, &payload) {
            Ok(()) => {
                sns.finish(d.id)?;
                Ok(true)
            }
            Err(why) => {
                let attempts = d.attempts + 1;
                let now = self.app.clock.now_millis();
                let policy = sub
                    .attributes
                    .get("DeliveryPolicy")
                    .or_else(|| topic.attributes.get("DeliveryPolicy"));
                match retry::next_delay_ms(
                    &sub.protocol,
                    policy.map(String::as_str),
                    attempts,
                    d.created_ms,
                    now,
                ) {
                    Some(delay) => {
                        tracing::info!(subscription = %sub.arn, attempts, error = %why, "SNS delivery failed; will retry");
                        sns.retry_later(d.id, attempts, now + delay)?;
                    }
                    None => {
                        tracing::warn!(subscription = %sub.arn, attempts, error = %why, "SNS delivery given up");
                        sns.finish(d.id)?;
                    }
                }
                Ok(false)
            }
        }
    }

    /// The signed JSON envelope of a message for a subscription.
    fn signed_json(&self, sub: &Subscription, payload: &Value) -> Result<String, Failure> {
        let signer = self.signer.get(&*self.app.sns).map_err(|e| e.to_string())?;
        let env = envelope(payload, &sub.arn, &self.base_url);
        let version = field(payload, "SignatureVersion").unwrap_or("1");
        let signature = signer
            .sign(&env.string_to_sign(), version)
            .map_err(|e| e.to_string())?;
        let cert_url = format!("{}/{}", self.base_url, signer.cert_name);
        Ok(env.to_json(&signature, &cert_url))
    }

    /// The SNS event a Lambda subscriber gets: the signed envelope's fields, in Lambda's
    /// spelling.
    fn lambda_event(&self, sub: &Subscription, payload: &Value) -> Result<Value, Failure> {
        let signer = self.signer.get(&*self.app.sns).map_err(|e| e.to_string())?;
        let env = envelope(payload, &sub.arn, &self.base_url);
        let version = field(payload, "SignatureVersion").unwrap_or("1");
        let signature = signer
            .sign(&env.string_to_sign(), version)
            .map_err(|e| e.to_string())?;
        let cert_url = format!("{}/{}", self.base_url, signer.cert_name);
        Ok(function::event(&env, &sub.arn, &signature, &cert_url))
    }

    fn send(&self, topic: &Topic, sub: &Subscription, payload: &Value) -> Result<(), Failure> {
        let kind = field(payload, "Type").unwrap_or("Notification");
        let raw = kind == "Notification"
            && sub
                .attributes
                .get("RawMessageDelivery")
                .is_some_and(|v| v == "true");
        let text = field(payload, "Message").unwrap_or_default();
        match sub.protocol.as_str() {
            "http" | "https" => {
                let body = if raw {
                    text.to_owned()
                } else {
                    self.signed_json(sub, payload)?
                };
                let mut headers = vec![
                    ("x-amz-sns-message-type", kind.to_owned()),
                    (
                        "x-amz-sns-message-id",
                        field(payload, "MessageId").unwrap_or_default().to_owned(),
                    ),
                    ("x-amz-sns-topic-arn", topic.arn.clone()),
                ];
                if kind != "SubscriptionConfirmation" {
                    headers.push(("x-amz-sns-subscription-arn", sub.arn.clone()));
                }
                if raw {
                    headers.push(("x-amz-sns-rawdelivery", "true".to_owned()));
                }
                headers.push(("Content-Type", "text/plain; charset=UTF-8".to_owned()));
                headers.push((
                    "User-Agent",
                    "Amazon Simple Notification Service Agent".to_owned(),
                ));
                headers.push(("Accept-Encoding", "gzip,deflate".to_owned()));
                match http::post(&sub.endpoint, &headers, &body)? {
                    200..=299 => Ok(()),
                    status => Err(format!("{} answered {status}", sub.endpoint)),
                }
            }
            "email" | "email-json" => {
                let body = if sub.protocol == "email-json" {
                    self.signed_json(sub, payload)?
                } else {
                    self.email_text(sub, payload)
                };
                let subject = match kind {
                    "SubscriptionConfirmation" => {
                        "AWS Notification - Subscription Confirmation".to_owned()
                    }
                    _ => field(payload, "Subject")
                        .unwrap_or("AWS Notification Message")
                        .to_owned(),
                };
                let display = topic
                    .attributes
                    .get("DisplayName")
                    .filter(|d| !d.is_empty());
                let mail = email::Mail {
                    to: &sub.endpoint,
                    from_name: display.map_or("AWS Notifications", String::as_str),
                    subject: &subject,
                    body: &body,
                    message_id: field(payload, "MessageId").unwrap_or_default(),
                    date_ms: self.app.clock.now_millis(),
                };
                email::write(&self.mailbox, &mail)
                    .map(|_| ())
                    .map_err(|e| e.to_string())
            }
            "sqs" => {
                let (body, attributes) = if raw {
                    let attrs = payload.get("MessageAttributes").and_then(Value::as_object);
                    (text.to_owned(), sqs::sqs_attributes(attrs))
                } else {
                    (self.signed_json(sub, payload)?, Default::default())
                };
                sqs::send(
                    &self.app,
                    &topic.arn,
                    &sub.endpoint,
                    &self.base_url,
                    &body,
                    attributes,
                )
            }
            "lambda" => {
                let event = self.lambda_event(sub, payload)?;
                function::invoke(&self.app, &topic.arn, &sub.endpoint, &event)
            }
            other => Err(format!("cairn cannot deliver to {other} subscriptions")),
        }
    }

    /// The text of an email: the message with AWS's unsubscribe footer, or the confirmation
    /// link.
    fn email_text(&self, sub: &Subscription, payload: &Value) -> String {
        let env = message::envelope(payload, &sub.arn, &self.base_url);
        let link = |name: &str| {
            env.fields
                .iter()
                .find(|(k, _)| *k == name)
                .map(|(_, v)| v.clone())
                .unwrap_or_default()
        };
        if field(payload, "Type") == Some("SubscriptionConfirmation") {
            format!(
                "You have chosen to subscribe to the topic: \n{}\n\nTo confirm this subscription, click or visit the link below (If this was in error no action is necessary):\n{}\n",
                sub.topic_arn,
                link("SubscribeURL")
            )
        } else {
            format!(
                "{}\n\n--\nIf you wish to stop receiving notifications from this topic, please click or visit the link below to unsubscribe:\n{}\n\nPlease do not reply directly to this email. If you have any questions or comments regarding this email, please contact us at https://aws.amazon.com/support",
                field(payload, "Message").unwrap_or_default(),
                link("UnsubscribeURL")
            )
        }
    }
}

impl Consumer for Deliverer {
    fn name(&self) -> &'static str {
        "sns-delivery"
    }

    /// It reads the outbox, not the journal.
    fn needs_from(&self) -> Result<u64, StoreError> {
        Ok(u64::MAX)
    }

    fn run_due(&self) -> Result<Round, String> {
        self.run_once()
            .map(|done| Round { done })
            .map_err(|e| e.to_string())
    }
}
