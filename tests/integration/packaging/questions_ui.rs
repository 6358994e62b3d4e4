//! `questions-ui.yml`: a question for every setting, the policy's defaults and accepted options.

use super::*;

#[derive(Deserialize, Debug, Clone)]
#[serde(deny_unknown_fields)]
pub(crate) struct Question {
    pub(crate) variable: String,
    #[serde(rename = "type")]
    pub(crate) kind: String,
    pub(crate) default: Value,
    pub(crate) label: String,
    pub(crate) description: String,
    pub(crate) group: String,
    pub(crate) required: bool,
    #[serde(default)]
    pub(crate) hide_input: bool,
    #[serde(default)]
    pub(crate) placeholder: Option<String>,
    #[serde(default)]
    pub(crate) show_if: Option<String>,
    #[serde(default)]
    pub(crate) options: Vec<String>,
    #[serde(default)]
    pub(crate) subquestions: Vec<Question>,
}

#[derive(Deserialize, Debug)]
#[serde(deny_unknown_fields)]
pub(crate) struct Questions {
    pub(crate) questions: Vec<Question>,
}

/// Every question, subquestions included, without the leading `description` item.
pub(crate) fn questions() -> Vec<Question> {
    let all: Questions = yaml("questions-ui.yml");
    assert_eq!(
        all.questions
            .first()
            .map(|q| (q.variable.as_str(), q.hide_input, &q.default)),
        Some(("description", true, &Value::Null)),
        "the first question carries the policy description"
    );
    let mut flat = Vec::new();
    let mut stack: Vec<Question> = all.questions.into_iter().skip(1).rev().collect();
    while let Some(q) = stack.pop() {
        stack.extend(q.subquestions.iter().rev().cloned());
        flat.push(q);
    }
    flat
}

/// The names serde lists in its "unknown field" error for the settings struct at `prefix`.
pub(crate) fn accepted_keys(settings_with_unknown_key: Value) -> Vec<String> {
    let error = check_settings(&settings_with_unknown_key.to_string())
        .expect_err("an unknown key must be rejected");
    let list = error
        .split("expected one of ")
        .nth(1)
        .unwrap_or_else(|| panic!("no list of accepted keys in: {error}"));
    list.split('`')
        .skip(1)
        .step_by(2)
        .map(str::to_string)
        .collect()
}

/// Every setting as a dotted path, taken from the policy's own settings types.
pub(crate) fn setting_paths() -> Vec<String> {
    let top = accepted_keys(json!({"zzUnknown": 0}));
    let nested =
        accepted_keys(json!({"defaultTenantId": "t", "customTokenEndpoint": {"zzUnknown": 0}}));
    assert!(
        top.contains(&"defaultTenantId".to_string()) && nested.contains(&"audience".to_string())
    );
    let mut paths: Vec<String> = top
        .into_iter()
        .filter(|k| k != "customTokenEndpoint")
        .collect();
    paths.extend(
        nested
            .into_iter()
            .map(|k| format!("customTokenEndpoint.{k}")),
    );
    paths
}

pub(crate) fn set_path(settings: &mut Value, path: &str, value: Value) {
    let mut node = settings;
    let parts: Vec<&str> = path.split('.').collect();
    for part in &parts[..parts.len() - 1] {
        node = node
            .as_object_mut()
            .expect("settings nest objects")
            .entry(part.to_string())
            .or_insert_with(|| json!({}));
    }
    node[parts[parts.len() - 1]] = value;
}

pub(crate) const TENANT: &str = "72f988bf-86f1-41af-91ab-2d7cd011db47";

/// The settings a form left at its defaults produces, with the required tenant filled in.
pub(crate) fn form_defaults() -> Value {
    let mut settings = json!({});
    for q in questions() {
        if q.subquestions.is_empty() && !q.default.is_null() {
            set_path(&mut settings, &q.variable, q.default.clone());
        }
    }
    set_path(&mut settings, "defaultTenantId", json!(TENANT));
    settings
}

#[test]
fn questions_ui_has_a_question_for_every_setting_and_nothing_else() {
    let paths = setting_paths();
    let variables: Vec<String> = questions().into_iter().map(|q| q.variable).collect();
    for path in &paths {
        assert!(
            variables
                .iter()
                .any(|v| v == path || v.starts_with(&format!("{path}."))),
            "questions-ui.yml has no question for the setting {path}"
        );
    }
    for variable in &variables {
        assert!(
            paths.iter().any(|p| {
                p == variable
                    || p.starts_with(&format!("{variable}."))
                    || variable.starts_with(&format!("{p}."))
            }),
            "questions-ui.yml asks for {variable}, which is not a setting"
        );
    }
    let unique: BTreeSet<&String> = variables.iter().collect();
    assert_eq!(unique.len(), variables.len(), "a variable is asked twice");
    for q in questions() {
        assert!(
            q.placeholder.as_deref().is_none_or(|p| !p.is_empty()),
            "{}",
            q.variable
        );
        // show_if reads `variable=value`, joined with && or ||.
        for condition in q
            .show_if
            .iter()
            .flat_map(|s| s.split(['&', '|']))
            .filter(|c| !c.is_empty())
        {
            let (variable, _) = condition
                .split_once('=')
                .unwrap_or_else(|| panic!("{}: show_if {condition}", q.variable));
            assert!(
                variables.iter().any(|v| v == variable),
                "{}: show_if {condition}",
                q.variable
            );
        }
    }
}

#[test]
fn questions_ui_defaults_are_the_policy_defaults() {
    for q in questions() {
        assert!(
            ["string", "boolean", "enum", "map["].contains(&q.kind.as_str()),
            "{}: type {}",
            q.variable,
            q.kind
        );
        assert!(!q.label.is_empty() && !q.description.is_empty() && !q.group.is_empty());
        match q.kind.as_str() {
            "enum" => assert!(
                q.default
                    .as_str()
                    .is_some_and(|d| q.options.iter().any(|o| o == d)),
                "{}: the default must be one of the options",
                q.variable
            ),
            "boolean" => assert!(q.default.is_boolean(), "{}", q.variable),
            "string" => assert!(
                q.default.is_string() || q.default.is_null(),
                "{}",
                q.variable
            ),
            _ => assert!(
                q.default.is_object() || q.default.is_null(),
                "{}",
                q.variable
            ),
        }
        assert_eq!(
            q.required,
            q.variable == "defaultTenantId",
            "{}: required",
            q.variable
        );
        assert_eq!(
            q.options.is_empty(),
            q.kind != "enum",
            "{}: options",
            q.variable
        );
    }
    let defaults = form_defaults();
    let minimal = json!({"defaultTenantId": TENANT});
    assert_eq!(
        check_settings(&defaults.to_string()),
        check_settings(&minimal.to_string()),
        "the form's defaults {defaults} must configure the policy exactly like {minimal}"
    );
}

#[test]
fn questions_ui_enum_options_are_accepted_by_the_policy() {
    for q in questions().into_iter().filter(|q| q.kind == "enum") {
        for option in &q.options {
            let mut settings = form_defaults();
            set_path(&mut settings, &q.variable, json!(option));
            if option == "AzureStackCloud" {
                set_path(
                    &mut settings,
                    "authorityHost",
                    json!("https://login.example.test/"),
                );
            }
            if let Err(e) = check_settings(&settings.to_string()) {
                panic!("{} = {option} is rejected: {e}", q.variable);
            }
        }
    }
}
