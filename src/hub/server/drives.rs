//! Drives: a volume of a network that its owner offers to people, with the
//! invitations it sends them. A drive is kept as the owner's JSON (`name`,
//! `owner`, `network`, `volume`, optional `description`) plus `users`, the
//! invitations by invitee name; both network and volume must be on the
//! hub, and the volume on that network.
//!
//! The owner invites a registered user who holds a passport for the
//! drive's network here (status `pending`); the invitee accepts (status
//! `ok`); either may withdraw the invitation. The hub keeps no e-mail
//! addresses, so invitations by e-mail are refused rather than kept for a
//! user who will never be found. Drive icons are not kept either.

use std::collections::BTreeMap;

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use redb::{ReadTransaction, ReadableTable, WriteTransaction};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use super::auth::Call;
use super::error::ApiError;
use super::networks::qualified;
use super::store::{self, DRIVE_MEMBERS, DRIVES, NETWORKS, PASSPORTS, USERS, VOLUMES};
use super::users::{check_name, load as load_user};
use super::volumes::check_description;
use super::{Shared, done, pushed, reply};
use crate::descriptors::{Passport, names};
use crate::hub::api::Outcome;

/// A drive as stored and served.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Drive {
    /// `owner/drive`.
    pub name: String,
    /// The owner's user name.
    pub owner: String,
    /// The network, `owner/network`.
    pub network: String,
    /// The volume, `owner/volume`, on that network.
    pub volume: String,
    /// For people.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// Invitations by invitee name.
    #[serde(default)]
    pub users: BTreeMap<String, Invitation>,
}

/// What the owner offers one invitee, and whether it accepted.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Invitation {
    /// The access offered.
    pub permissions: Permissions,
    /// `pending` until the invitee accepts.
    pub status: Status,
    /// Whether the invitee gets a home folder in the drive.
    pub create_home: bool,
}

/// The access an invitation offers (as `infinit acl --mode`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Permissions {
    #[serde(rename = "r")]
    Read,
    #[serde(rename = "w")]
    Write,
    #[serde(rename = "rw")]
    ReadWrite,
    #[serde(rename = "none")]
    Nothing,
}

/// Where an invitation stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    /// Sent by the owner, not accepted yet.
    Pending,
    /// Accepted by the invitee.
    Ok,
}

/// An invitation body as sent: every field optional, each route says
/// which it needs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Offer {
    pub permissions: Option<Permissions>,
    pub status: Option<Status>,
    pub create_home: Option<bool>,
}

/// Error kind of invitations.
const INVITATION: &str = "drive/invitation";

impl Drive {
    /// Whether `other` is the same drive (invitations aside).
    pub fn same_as(&self, other: &Drive) -> bool {
        self.name == other.name
            && self.owner == other.owner
            && self.network == other.network
            && self.volume == other.volume
            && self.description == other.description
    }

    /// The owner invites `invitee` with `offer` (which has no status or
    /// says `pending`): a new invitation, a changed pending one, or the
    /// same again; an accepted invitation cannot be changed.
    pub fn invite(&mut self, invitee: &str, offer: Offer) -> Result<Outcome, ApiError> {
        let Some(permissions) = offer.permissions else {
            return Err(ApiError::new(
                400,
                format!("{INVITATION}/missing_field/permissions"),
                "missing field permissions",
            ));
        };
        if offer.status == Some(Status::Ok) {
            return Err(ApiError::new(
                422,
                format!("{INVITATION}/invalid_format/status"),
                format!("the owner invites with status \"pending\": only \"{invitee}\" accepts"),
            ));
        }
        if invitee == self.owner {
            return Err(ApiError::new(
                422,
                format!("{INVITATION}/owner"),
                format!("user \"{invitee}\" owns drive \"{}\": it is not invited to it", self.name),
            ));
        }
        let create_home = offer.create_home.unwrap_or(false);
        match self.users.get_mut(invitee) {
            None => {
                self.users
                    .insert(invitee.to_string(), Invitation { permissions, status: Status::Pending, create_home });
                Ok(Outcome::Created)
            }
            Some(old) if old.permissions == permissions && old.create_home == create_home => Ok(Outcome::Unchanged),
            Some(old) if old.status == Status::Ok => Err(ApiError::new(
                409,
                format!("{INVITATION}/conflict"),
                format!(
                    "user \"{invitee}\" already accepted drive \"{}\" on other terms: withdraw the invitation first",
                    self.name
                ),
            )
            .named(invitee)),
            Some(old) => {
                old.permissions = permissions;
                old.create_home = create_home;
                Ok(Outcome::Updated)
            }
        }
    }

    /// `invitee` accepts its invitation as offered (`offer` says `ok`, and
    /// repeats the terms or leaves them out).
    pub fn accept(&mut self, invitee: &str, offer: Offer) -> Result<Outcome, ApiError> {
        if offer.status != Some(Status::Ok) {
            return Err(ApiError::new(
                422,
                format!("{INVITATION}/invalid_format/status"),
                format!("user \"{invitee}\" accepts with status \"ok\""),
            ));
        }
        let Some(invitation) = self.users.get_mut(invitee) else {
            return Err(invitation_not_found(&self.name, invitee));
        };
        if offer.permissions.is_some_and(|p| p != invitation.permissions)
            || offer.create_home.is_some_and(|c| c != invitation.create_home)
        {
            return Err(ApiError::new(
                409,
                format!("{INVITATION}/conflict"),
                format!(
                    "user \"{invitee}\" accepts drive \"{}\" on other terms than offered: the owner changes them",
                    self.name
                ),
            )
            .named(invitee));
        }
        if invitation.status == Status::Ok {
            return Ok(Outcome::Unchanged);
        }
        invitation.status = Status::Ok;
        Ok(Outcome::Updated)
    }
}

fn invitation_not_found(drive: &str, invitee: &str) -> ApiError {
    ApiError::new(
        404,
        format!("{INVITATION}/not_found"),
        format!("user \"{invitee}\" is not invited to drive \"{drive}\""),
    )
    .named(invitee)
}

/// The object of `value` if its keys are among `allowed` and include
/// `required`.
fn fields<'v>(
    kind: &str,
    value: &'v Value,
    allowed: &[&str],
    required: &[&str],
) -> Result<&'v Map<String, Value>, ApiError> {
    let Some(object) = value.as_object() else {
        return Err(ApiError::bad_body(kind, "expected a JSON object"));
    };
    if let Some(unknown) = object.keys().find(|k| !allowed.contains(&k.as_str())) {
        return Err(ApiError::new(
            400,
            format!("{kind}/unknown_field/{unknown}"),
            format!("unknown field {unknown} (expected: {})", allowed.join(", ")),
        ));
    }
    if let Some(missing) = required.iter().find(|f| !object.contains_key(**f)) {
        return Err(ApiError::new(400, format!("{kind}/missing_field/{missing}"), format!("missing field {missing}")));
    }
    Ok(object)
}

fn invalid(kind: &str, field: &str, reason: impl Into<String>) -> ApiError {
    ApiError::new(422, format!("{kind}/invalid_format/{field}"), reason)
}

/// Field `field` of `object` as text, if present.
fn text<'v>(kind: &str, object: &'v Map<String, Value>, field: &str) -> Result<Option<&'v str>, ApiError> {
    match object.get(field) {
        None => Ok(None),
        Some(v) => v.as_str().map(Some).ok_or_else(|| invalid(kind, field, format!("{field} must be a string"))),
    }
}

/// Check that `name` (field `field`) is `owner/name`.
fn check_qualified(kind: &str, field: &str, what: &'static str, name: &str) -> Result<(), ApiError> {
    let qualified = names::qualify(what, name, "_").map_err(|e| invalid(kind, field, e.to_string()))?;
    if qualified != name {
        return Err(invalid(kind, field, format!("\"{name}\" is not owner/{what}")));
    }
    Ok(())
}

/// Parse an invitation body.
pub fn parse_offer(value: &Value) -> Result<Offer, ApiError> {
    let object = fields(INVITATION, value, &["permissions", "status", "create_home"], &[])?;
    let mut offer = Offer::default();
    if let Some(p) = object.get("permissions") {
        offer.permissions = Some(serde_json::from_value(p.clone()).map_err(|_| {
            invalid(INVITATION, "permissions", "permissions must be one of \"r\", \"w\", \"rw\", \"none\"")
        })?);
    }
    if let Some(s) = object.get("status") {
        offer.status = Some(
            serde_json::from_value(s.clone())
                .map_err(|_| invalid(INVITATION, "status", "status must be \"pending\" or \"ok\""))?,
        );
    }
    if let Some(c) = object.get("create_home") {
        offer.create_home =
            Some(c.as_bool().ok_or_else(|| invalid(INVITATION, "create_home", "create_home must be true or false"))?);
    }
    Ok(offer)
}

/// Parse the body of `PUT /drives/<owner>/<name>` for drive `qualified`.
pub fn parse_drive(value: &Value, qualified: &str, owner: &str) -> Result<Drive, ApiError> {
    let object = fields(
        "drive",
        value,
        &["name", "owner", "network", "volume", "description", "users"],
        &["name", "owner", "network", "volume"],
    )?;
    let name = text("drive", object, "name")?.unwrap_or_default();
    if name != qualified {
        return Err(invalid("drive", "name", format!("the body is drive \"{name}\", pushed as \"{qualified}\""))
            .named(qualified));
    }
    let owner_field = text("drive", object, "owner")?.unwrap_or_default();
    if owner_field != owner {
        return Err(invalid(
            "drive",
            "owner",
            format!("drive \"{qualified}\" is owned by \"{owner}\", not \"{owner_field}\""),
        ));
    }
    let network = text("drive", object, "network")?.unwrap_or_default();
    check_qualified("drive", "network", "network", network)?;
    let volume = text("drive", object, "volume")?.unwrap_or_default();
    check_qualified("drive", "volume", "volume", volume)?;
    let description = check_description("drive", object.get("description"))?;
    let mut users = BTreeMap::new();
    if let Some(invitations) = object.get("users") {
        let Some(invitations) = invitations.as_object() else {
            return Err(invalid("drive", "users", "users must map invitees to invitations"));
        };
        for (invitee, offer) in invitations {
            let offer = parse_offer(offer)?;
            let (Some(permissions), Some(status)) = (offer.permissions, offer.status) else {
                return Err(invalid("drive", "users", format!("the invitation of \"{invitee}\" is incomplete")));
            };
            users.insert(
                invitee.clone(),
                Invitation { permissions, status, create_home: offer.create_home.unwrap_or(false) },
            );
        }
    }
    Ok(Drive {
        name: name.to_string(),
        owner: owner.to_string(),
        network: network.to_string(),
        volume: volume.to_string(),
        description,
        users,
    })
}

/// Drive `name` as stored, if any.
fn get(table: &impl ReadableTable<&'static str, &'static [u8]>, name: &str) -> Result<Option<Drive>, ApiError> {
    store::get(table, name)
}

/// Drive `name` as stored, or 404.
fn load(txn: &ReadTransaction, name: &str) -> Result<Drive, ApiError> {
    get(&txn.open_table(DRIVES)?, name)?.ok_or_else(|| ApiError::not_found("drive", name))
}

/// Store `drive`, keeping the index of members in step with `before`.
fn save(txn: &WriteTransaction, drive: &Drive, before: Option<&Drive>) -> Result<(), ApiError> {
    let mut members = txn.open_table(DRIVE_MEMBERS)?;
    if let Some(before) = before {
        for gone in before.users.keys().filter(|u| !drive.users.contains_key(*u)) {
            members.remove(store::key(&[gone, &drive.name]).as_str())?;
        }
    }
    for user in drive.users.keys() {
        members.insert(store::key(&[user, &drive.name]).as_str(), &[][..])?;
    }
    store::put(&mut txn.open_table(DRIVES)?, &drive.name, drive)
}

/// Remove drive `name` and its index entries.
pub fn remove(txn: &WriteTransaction, name: &str) -> Result<(), ApiError> {
    let mut drives = txn.open_table(DRIVES)?;
    if let Some(old) = get(&drives, name)? {
        let mut members = txn.open_table(DRIVE_MEMBERS)?;
        for user in old.users.keys() {
            members.remove(store::key(&[user, name]).as_str())?;
        }
        drives.remove(name)?;
    }
    Ok(())
}

/// Remove the drives of `owner` that `which` selects (the purges).
pub fn remove_owned(txn: &WriteTransaction, owner: &str, which: impl Fn(&Drive) -> bool) -> Result<(), ApiError> {
    let owned: Vec<(String, Drive)> = store::scan(&txn.open_table(DRIVES)?, &format!("{owner}/"))?;
    for (name, drive) in owned {
        if which(&drive) {
            remove(txn, &name)?;
        }
    }
    Ok(())
}

/// Apply `change` to the stored drive `name` (404 if none) and store the
/// result unless `change` says nothing changed.
fn change_drive(
    txn: &WriteTransaction,
    name: &str,
    change: impl FnOnce(&WriteTransaction, &mut Drive) -> Result<Outcome, ApiError>,
) -> Result<Outcome, ApiError> {
    let before = get(&txn.open_table(DRIVES)?, name)?.ok_or_else(|| ApiError::not_found("drive", name))?;
    let mut drive = before.clone();
    let outcome = change(txn, &mut drive)?;
    if outcome != Outcome::Unchanged {
        save(txn, &drive, Some(&before))?;
    }
    Ok(outcome)
}

/// The names of the drives `owner` owns.
pub fn owned(txn: &WriteTransaction, owner: &str) -> Result<Vec<String>, ApiError> {
    store::scan_keys(&txn.open_table(DRIVES)?, &format!("{owner}/"))
}

/// Withdraw every invitation of `user` (its registration is going).
pub fn forget_invitee(txn: &WriteTransaction, user: &str) -> Result<(), ApiError> {
    let prefix = format!("{user}\n");
    let invited = store::scan_keys(&txn.open_table(DRIVE_MEMBERS)?, &prefix)?;
    for index in invited {
        let drive = match index.split_once('\n') {
            Some((_, name)) => get(&txn.open_table(DRIVES)?, name)?,
            None => None,
        };
        if let Some(before) = drive {
            let mut drive = before.clone();
            drive.users.remove(user);
            save(txn, &drive, Some(&before))?;
        }
        txn.open_table(DRIVE_MEMBERS)?.remove(index.as_str())?;
    }
    Ok(())
}

/// The drives `user` owns or is invited to, by name.
pub fn of_user(txn: &ReadTransaction, user: &str) -> Result<Vec<Value>, ApiError> {
    let drives = txn.open_table(DRIVES)?;
    let mut found: BTreeMap<String, Drive> = store::scan(&drives, &format!("{user}/"))?.into_iter().collect();
    for index in store::scan_keys(&txn.open_table(DRIVE_MEMBERS)?, &format!("{user}\n"))? {
        if let Some((_, name)) = index.split_once('\n')
            && !found.contains_key(name)
            && let Some(drive) = get(&drives, name)?
        {
            found.insert(name.to_string(), drive);
        }
    }
    Ok(found.into_values().map(|d| serde_json::to_value(d).unwrap_or_default()).collect())
}

/// Refuse what the drive needs and the hub does not have: its network,
/// its volume (on that network).
fn check_parts(txn: &WriteTransaction, drive: &Drive) -> Result<(), ApiError> {
    if store::get::<Value>(&txn.open_table(NETWORKS)?, &drive.network)?.is_none() {
        return Err(ApiError::not_found("network", &drive.network));
    }
    let volume: Value = store::get(&txn.open_table(VOLUMES)?, &drive.volume)?
        .ok_or_else(|| ApiError::not_found("volume", &drive.volume))?;
    let on = volume.get("network").and_then(Value::as_str).unwrap_or_default();
    if on != drive.network {
        return Err(ApiError::new(
            422,
            "drive/volume_mismatch",
            format!("volume \"{}\" is on network \"{on}\", not on \"{}\"", drive.volume, drive.network),
        )
        .named(&drive.name));
    }
    Ok(())
}

/// Refuse `invitee` unless it is registered and holds a passport for the
/// drive's network here (or owns that network).
fn check_invitee(txn: &WriteTransaction, drive: &Drive, invitee: &str) -> Result<(), ApiError> {
    let record = load_user(&txn.open_table(USERS)?, invitee)?.ok_or_else(|| ApiError::not_found("user", invitee))?;
    if drive.network.split('/').next() == Some(invitee) {
        return Ok(());
    }
    let passport: Option<Passport> = store::get(&txn.open_table(PASSPORTS)?, &store::key(&[&drive.network, invitee]))?;
    if !passport.is_some_and(|p| p.user == record.user.public_key) {
        let shown = format!("{}: {invitee}", drive.network);
        return Err(ApiError::new(
            404,
            "passport/not_found",
            format!(
                "user \"{invitee}\" holds no passport for network \"{}\" on this hub: push one first (infinit passport create --network {} --user {invitee} --push)",
                drive.network, drive.network
            ),
        )
        .named(shown));
    }
    Ok(())
}

/// Check an invitee from a route or a body: a user name, not an e-mail.
fn check_invitee_name(invitee: &str) -> Result<(), ApiError> {
    if invitee.contains('@') {
        return Err(ApiError::new(
            422,
            format!("{INVITATION}/email_unsupported"),
            format!(
                "\"{invitee}\" is an e-mail address: this hub keeps no e-mail addresses, invite the invitee's user name"
            ),
        )
        .named(invitee));
    }
    check_name(INVITATION, "user", invitee)
}

/// `GET /drives/<owner>/<name>`.
pub async fn fetch(State(hub): State<Shared>, Path((owner, name)): Path<(String, String)>) -> Response {
    reply((|| {
        let name = qualified("drive", "drive", &owner, &name)?;
        let drive = hub.store.read(|txn| load(txn, &name))?;
        Ok((StatusCode::OK, serde_json::to_value(drive).unwrap_or_default()))
    })())
}

/// `PUT /drives/<owner>/<name>`: its owner publishes a drive of a volume
/// on the hub. Invitations go through their own routes: a body may carry
/// `users` only as they are on the hub.
pub async fn push(State(hub): State<Shared>, Path((owner, name)): Path<(String, String)>, call: Call) -> Response {
    reply(
        async {
            let qualified = qualified("drive", "drive", &owner, &name)?;
            let value: Value = call.json("drive")?;
            let drive = parse_drive(&value, &qualified, &owner)?;
            let signed = hub.authenticate(&call)?;
            if signed.user != owner {
                return Err(ApiError::forbidden(format!(
                    "user \"{}\" may not push drive \"{qualified}\": only its owner \"{owner}\" may",
                    signed.user
                ))
                .named(qualified));
            }
            hub.write(
                Some(&signed),
                Box::new(move |txn| {
                    let old = get(&txn.open_table(DRIVES)?, &qualified)?;
                    let stored = old.as_ref().map(|d| &d.users).cloned().unwrap_or_default();
                    if !drive.users.is_empty() && drive.users != stored {
                        return Err(invalid(
                            "drive",
                            "users",
                            format!("invitations change through /drives/{qualified}/invitations, not with the drive"),
                        )
                        .named(qualified));
                    }
                    match old {
                        Some(old) if old.same_as(&drive) => Ok(pushed(Outcome::Unchanged)),
                        Some(old) => Err(ApiError::new(
                            409,
                            "drive/conflict",
                            format!(
                                "drive \"{qualified}\" already exists on this hub (volume \"{}\" of network \"{}\") and differs",
                                old.volume, old.network
                            ),
                        )
                        .named(qualified)),
                        None => {
                            check_parts(txn, &drive)?;
                            save(txn, &Drive { users: BTreeMap::new(), ..drive }, None)?;
                            Ok(pushed(Outcome::Created))
                        }
                    }
                }),
            )
            .await
        }
        .await,
    )
}

/// `DELETE /drives/<owner>/<name>`: its owner (or an administrator).
pub async fn pull(State(hub): State<Shared>, Path((owner, name)): Path<(String, String)>, call: Call) -> Response {
    reply(
        async {
            let qualified = qualified("drive", "drive", &owner, &name)?;
            hub.store.read(|txn| load(txn, &qualified))?;
            let signed = hub.authenticate(&call)?;
            if signed.user != owner && !hub.is_admin(&signed.user) {
                return Err(ApiError::forbidden(format!(
                    "user \"{}\" may not delete drive \"{qualified}\": only its owner \"{owner}\" may",
                    signed.user
                ))
                .named(qualified));
            }
            hub.write(
                Some(&signed),
                Box::new(move |txn| {
                    remove(txn, &qualified)?;
                    Ok(done())
                }),
            )
            .await
        }
        .await,
    )
}

/// `PUT /drives/<owner>/<name>/invitations/<user>`: signed by the owner,
/// an invitation; signed by the invitee, its acceptance.
pub async fn invite(
    State(hub): State<Shared>,
    Path((owner, name, invitee)): Path<(String, String, String)>,
    call: Call,
) -> Response {
    reply(
        async {
            let qualified = qualified("drive", "drive", &owner, &name)?;
            check_invitee_name(&invitee)?;
            let offer = parse_offer(&call.json(INVITATION)?)?;
            hub.store.read(|txn| load(txn, &qualified))?;
            let signed = hub.authenticate(&call)?;
            let by_owner = signed.user == owner;
            if !by_owner && signed.user != invitee {
                return Err(ApiError::forbidden(format!(
                    "user \"{}\" may not change the invitation of \"{invitee}\" to drive \"{qualified}\": only the owner \"{owner}\" or the invitee may",
                    signed.user
                ))
                .named(qualified));
            }
            hub.write(
                Some(&signed),
                Box::new(move |txn| {
                    let outcome = change_drive(txn, &qualified, |txn, drive| {
                        if by_owner {
                            check_parts(txn, drive)?;
                            check_invitee(txn, drive, &invitee)?;
                            drive.invite(&invitee, offer)
                        } else {
                            drive.accept(&invitee, offer)
                        }
                    })?;
                    Ok(pushed(outcome))
                }),
            )
            .await
        }
        .await,
    )
}

/// `PUT /drives/<owner>/<name>/invitations`: the owner invites several
/// users at once, `{invitee: invitation}`; all of them, or none if one is
/// refused. An entry for the owner is skipped.
pub async fn invite_all(
    State(hub): State<Shared>,
    Path((owner, name)): Path<(String, String)>,
    call: Call,
) -> Response {
    reply(
        async {
            let qualified = qualified("drive", "drive", &owner, &name)?;
            let body: Value = call.json(INVITATION)?;
            let Some(entries) = body.as_object() else {
                return Err(ApiError::bad_body(INVITATION, "expected a JSON object of invitations by invitee"));
            };
            let mut offers = Vec::with_capacity(entries.len());
            for (invitee, offer) in entries {
                if *invitee == owner {
                    continue;
                }
                check_invitee_name(invitee)?;
                offers.push((invitee.clone(), parse_offer(offer)?));
            }
            hub.store.read(|txn| load(txn, &qualified))?;
            let signed = hub.authenticate(&call)?;
            if signed.user != owner {
                return Err(ApiError::forbidden(format!(
                    "user \"{}\" may not invite people to drive \"{qualified}\": only its owner \"{owner}\" may",
                    signed.user
                ))
                .named(qualified));
            }
            hub.write(
                Some(&signed),
                Box::new(move |txn| {
                    let outcome = change_drive(txn, &qualified, |txn, drive| {
                        check_parts(txn, drive)?;
                        let mut outcome = Outcome::Unchanged;
                        for (invitee, offer) in offers {
                            check_invitee(txn, drive, &invitee)?;
                            outcome = match (outcome, drive.invite(&invitee, offer)?) {
                                (Outcome::Created, _) | (_, Outcome::Created) => Outcome::Created,
                                (Outcome::Updated, _) | (_, Outcome::Updated) => Outcome::Updated,
                                _ => Outcome::Unchanged,
                            };
                        }
                        Ok(outcome)
                    })?;
                    Ok(pushed(outcome))
                }),
            )
            .await
        }
        .await,
    )
}

/// `DELETE /drives/<owner>/<name>/invitations/<user>`: the owner withdraws
/// an invitation, or the invitee declines or leaves.
pub async fn uninvite(
    State(hub): State<Shared>,
    Path((owner, name, invitee)): Path<(String, String, String)>,
    call: Call,
) -> Response {
    reply(
        async {
            let qualified = qualified("drive", "drive", &owner, &name)?;
            check_invitee_name(&invitee)?;
            let drive = hub.store.read(|txn| load(txn, &qualified))?;
            if !drive.users.contains_key(&invitee) {
                return Err(invitation_not_found(&qualified, &invitee));
            }
            let signed = hub.authenticate(&call)?;
            if signed.user != owner && signed.user != invitee && !hub.is_admin(&signed.user) {
                return Err(ApiError::forbidden(format!(
                    "user \"{}\" may not withdraw the invitation of \"{invitee}\" to drive \"{qualified}\": only the owner \"{owner}\" or the invitee may",
                    signed.user
                ))
                .named(qualified));
            }
            hub.write(
                Some(&signed),
                Box::new(move |txn| {
                    change_drive(txn, &qualified, |_, drive| match drive.users.remove(&invitee) {
                        Some(_) => Ok(Outcome::Updated),
                        None => Err(invitation_not_found(&qualified, &invitee)),
                    })?;
                    Ok(done())
                }),
            )
            .await
        }
        .await,
    )
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn drive() -> Drive {
        parse_drive(
            &json!({"name": "alice/d", "owner": "alice", "network": "alice/n", "volume": "alice/v"}),
            "alice/d",
            "alice",
        )
        .unwrap()
    }

    fn offer(v: Value) -> Offer {
        parse_offer(&v).unwrap()
    }

    #[test]
    fn an_invitation_is_pending_until_the_invitee_accepts_it() {
        let mut d = drive();
        assert_eq!(d.invite("bob", offer(json!({"permissions": "rw"}))).unwrap(), Outcome::Created);
        assert_eq!(d.users["bob"].status, Status::Pending);
        assert_eq!(
            d.invite("bob", offer(json!({"permissions": "rw", "status": "pending"}))).unwrap(),
            Outcome::Unchanged
        );
        assert_eq!(d.accept("bob", offer(json!({"status": "ok"}))).unwrap(), Outcome::Updated);
        assert_eq!(d.users["bob"].status, Status::Ok);
        assert_eq!(d.accept("bob", offer(json!({"status": "ok", "permissions": "rw"}))).unwrap(), Outcome::Unchanged);
        // The same terms again are no change; other terms after acceptance are a conflict.
        assert_eq!(d.invite("bob", offer(json!({"permissions": "rw"}))).unwrap(), Outcome::Unchanged);
        assert_eq!(d.invite("bob", offer(json!({"permissions": "r"}))).unwrap_err().code, "drive/invitation/conflict");
    }

    #[test]
    fn only_the_invited_accept_and_only_as_offered() {
        let mut d = drive();
        assert_eq!(d.accept("carol", offer(json!({"status": "ok"}))).unwrap_err().code, "drive/invitation/not_found");
        d.invite("bob", offer(json!({"permissions": "r"}))).unwrap();
        let raised = d.accept("bob", offer(json!({"status": "ok", "permissions": "rw"}))).unwrap_err();
        assert_eq!(raised.code, "drive/invitation/conflict");
        assert_eq!(d.accept("bob", offer(json!({}))).unwrap_err().code, "drive/invitation/invalid_format/status");
        let owner_accepts = d.invite("bob", offer(json!({"permissions": "r", "status": "ok"}))).unwrap_err();
        assert_eq!(owner_accepts.code, "drive/invitation/invalid_format/status");
        assert_eq!(d.invite("alice", offer(json!({"permissions": "r"}))).unwrap_err().code, "drive/invitation/owner");
        assert_eq!(d.invite("bob", offer(json!({}))).unwrap_err().code, "drive/invitation/missing_field/permissions");
    }

    #[test]
    fn a_drive_body_has_the_declared_fields_only() {
        let base = json!({"name": "alice/d", "owner": "alice", "network": "alice/n", "volume": "alice/v"});
        let with = |k: &str, v: Value| {
            let mut b = base.clone();
            b[k] = v;
            parse_drive(&b, "alice/d", "alice").map(|_| ()).unwrap_err().code
        };
        assert_eq!(with("icon", json!("x")), "drive/unknown_field/icon");
        assert_eq!(with("network", json!("n")), "drive/invalid_format/network");
        assert_eq!(with("volume", json!("alice/Vol")), "drive/invalid_format/volume");
        assert_eq!(with("name", json!("alice/other")), "drive/invalid_format/name");
        assert_eq!(with("owner", json!("bob")), "drive/invalid_format/owner");
        assert_eq!(with("description", json!("two\nlines")), "drive/invalid_format/description");
        let mut missing = base.clone();
        missing.as_object_mut().unwrap().remove("volume");
        assert_eq!(parse_drive(&missing, "alice/d", "alice").unwrap_err().code, "drive/missing_field/volume");
        let bad_offer = parse_offer(&json!({"permissions": "all"})).unwrap_err();
        assert_eq!(bad_offer.code, "drive/invitation/invalid_format/permissions");
        assert_eq!(parse_offer(&json!({"x": 1})).unwrap_err().code, "drive/invitation/unknown_field/x");
    }
}
