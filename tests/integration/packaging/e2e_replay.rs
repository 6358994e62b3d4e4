//! The e2e fixtures, checked natively: the replay sessions of `kwctl run
//! --replay-host-capabilities-interactions` and the expectations of `e2e.bats`.

use super::*;

#[derive(Deserialize, Debug, PartialEq)]
#[serde(deny_unknown_fields)]
pub(crate) enum CallbackRequest {
    /// kwctl compares every field; `field_masks` is left out, so it reads as "no masks", which is
    /// what the policy sends.
    KubernetesGetResource {
        api_version: String,
        kind: String,
        name: String,
        namespace: Option<String>,
        disable_cache: bool,
    },
}

#[derive(Deserialize, Debug)]
#[serde(tag = "type", deny_unknown_fields)]
pub(crate) enum Response {
    Success { payload: String },
    Error { message: String },
}

#[derive(Deserialize, Debug)]
#[serde(tag = "type", deny_unknown_fields)]
pub(crate) enum Exchange {
    Exchange { request: String, response: Response },
}

/// Answers the policy's ServiceAccount lookups from a session file, in order, the way
/// `kwctl run --replay-host-capabilities-interactions` does.
pub(crate) struct Replay {
    pub(crate) session: String,
    pub(crate) exchanges: RefCell<VecDeque<(CallbackRequest, Response)>>,
}

impl Replay {
    fn load(session: &str) -> Replay {
        let exchanges: Vec<Exchange> = yaml(&format!("test_data/{session}"));
        assert!(!exchanges.is_empty(), "{session} is empty");
        let exchanges = exchanges
            .into_iter()
            .map(|Exchange::Exchange { request, response }| {
                let request: CallbackRequest = serde_yaml::from_str(&request)
                    .unwrap_or_else(|e| panic!("{session}: request: {e}"));
                (request, response)
            })
            .collect();
        Replay {
            session: session.to_string(),
            exchanges: RefCell::new(exchanges),
        }
    }

    fn none() -> Replay {
        Replay {
            session: "-".into(),
            exchanges: RefCell::new(VecDeque::new()),
        }
    }
}

impl ServiceAccountSource for Replay {
    fn get(&self, namespace: &str, name: &str) -> Result<ServiceAccount, String> {
        self.answer(namespace, name, false)
    }

    fn get_fresh(&self, namespace: &str, name: &str) -> Result<ServiceAccount, String> {
        self.answer(namespace, name, true)
    }
}

impl Replay {
    fn answer(
        &self,
        namespace: &str,
        name: &str,
        disable_cache: bool,
    ) -> Result<ServiceAccount, String> {
        let Some((recorded, response)) = self.exchanges.borrow_mut().pop_front() else {
            panic!(
                "{}: the policy made a lookup the session does not hold",
                self.session
            );
        };
        let sent = CallbackRequest::KubernetesGetResource {
            api_version: "v1".into(),
            kind: "ServiceAccount".into(),
            name: name.into(),
            namespace: Some(namespace.into()),
            disable_cache,
        };
        assert_eq!(recorded, sent, "{}: request", self.session);
        match response {
            Response::Success { payload } => Ok(serde_json::from_str(&payload)
                .unwrap_or_else(|e| panic!("{}: payload: {e}", self.session))),
            Response::Error { message } => Err(format!("Callback evaluation failure: {message}")),
        }
    }
}

#[test]
fn every_session_asks_for_a_service_account_the_policy_may_read() {
    let m = metadata();
    let allowed: Vec<(String, String)> = m
        .context_aware_resources
        .iter()
        .map(|r| (r.api_version.clone(), r.kind.clone()))
        .collect();
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("test_data");
    let mut sessions: Vec<String> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .filter_map(|entry| entry.ok()?.file_name().into_string().ok())
        .filter(|name| name.starts_with("session-") && name.ends_with(".yml"))
        .collect();
    sessions.sort();
    assert!(
        sessions.contains(&"session-mutate.yml".to_string()),
        "used by make run"
    );
    for session in sessions {
        let mut previous: Option<CallbackRequest> = None;
        for (request, response) in Replay::load(&session).exchanges.into_inner() {
            let CallbackRequest::KubernetesGetResource {
                api_version,
                kind,
                name,
                namespace,
                disable_cache,
            } = request;
            assert!(
                allowed.contains(&(api_version.clone(), kind.clone())),
                "{session}: not in contextAwareResources"
            );
            // the host's cache is used, and bypassed only to read the same object again
            let again = CallbackRequest::KubernetesGetResource {
                api_version,
                kind,
                name,
                namespace,
                disable_cache: false,
            };
            assert!(
                !disable_cache || previous.as_ref() == Some(&again),
                "{session}: disable_cache only repeats the read before it"
            );
            previous = Some(again);
            if let Response::Success { payload } = response {
                let object: Value =
                    serde_json::from_str(&payload).unwrap_or_else(|e| panic!("{session}: {e}"));
                assert_eq!(object["kind"], "ServiceAccount", "{session}");
            }
        }
    }
}

/// One `@test` of e2e.bats: its `policy_run` arguments and its `assert_*` lines.
#[derive(Debug)]
pub(crate) struct BatsCase {
    pub(crate) name: String,
    pub(crate) run: Vec<String>,
    pub(crate) asserts: Vec<Vec<String>>,
}

/// Splits a shell line into words; only plain words and '…' or "…" without escapes are used in
/// the lines read here.
pub(crate) fn shell_words(line: &str) -> Vec<String> {
    let mut words = Vec::new();
    let mut chars = line.trim().chars().peekable();
    while let Some(&c) = chars.peek() {
        if c.is_whitespace() {
            chars.next();
            continue;
        }
        let mut word = String::new();
        while let Some(&c) = chars.peek() {
            if c.is_whitespace() {
                break;
            }
            chars.next();
            if c == '\'' || c == '"' {
                for inner in chars.by_ref() {
                    if inner == c {
                        break;
                    }
                    assert!(
                        c == '\'' || !"$`\\".contains(inner),
                        "keep e2e.bats arguments plain: {line}"
                    );
                    word.push(inner);
                }
            } else {
                word.push(c);
            }
        }
        words.push(word);
    }
    words
}

pub(crate) fn bats_cases() -> Vec<BatsCase> {
    let mut cases: Vec<BatsCase> = Vec::new();
    for line in read("e2e.bats").lines() {
        let trimmed = line.trim();
        if let Some(rest) = trimmed.strip_prefix("@test ") {
            let name = shell_words(rest.trim_end_matches('{')).join(" ");
            cases.push(BatsCase {
                name,
                run: Vec::new(),
                asserts: Vec::new(),
            });
        } else if let Some(case) = cases.last_mut() {
            let words = shell_words(trimmed);
            match words.first().map(String::as_str) {
                Some("policy_run") => {
                    assert!(
                        case.run.is_empty(),
                        "{}: one policy_run per test",
                        case.name
                    );
                    case.run = words[1..].to_vec();
                }
                Some(a) if a.starts_with("assert_") => case.asserts.push(words),
                _ => {}
            }
        }
    }
    cases
}

/// Applies JSON Patch `add` operations (the only kind the policy's patches hold).
pub(crate) fn apply_adds(document: &mut Value, patch: &Value) {
    for op in patch.as_array().expect("a JSON Patch is an array") {
        assert_eq!(op["op"], "add", "only add operations are expected: {op}");
        let path = op["path"].as_str().expect("path");
        let mut tokens: Vec<String> = path
            .split('/')
            .skip(1)
            .map(|t| t.replace("~1", "/").replace("~0", "~"))
            .collect();
        let last = tokens.pop().expect("a non-root path");
        let mut node = &mut *document;
        for token in &tokens {
            node = match node {
                Value::Array(items) => &mut items[token.parse::<usize>().expect("index")],
                other => other
                    .get_mut(token.as_str())
                    .unwrap_or_else(|| panic!("{path}")),
            };
        }
        match node {
            Value::Array(items) if last == "-" => items.push(op["value"].clone()),
            Value::Array(items) => items.insert(last.parse().expect("index"), op["value"].clone()),
            Value::Object(map) => {
                map.insert(last, op["value"].clone());
            }
            _ => panic!("{path}: parent is not a container"),
        }
    }
}

/// The operations `json_patch::diff` (what kwctl uses) produces for a change that only adds.
pub(crate) fn diff_adds(left: &Value, right: &Value, path: &str, ops: &mut Vec<Value>) {
    let escape = |k: &str| k.replace('~', "~0").replace('/', "~1");
    match (left, right) {
        (Value::Object(l), Value::Object(r)) => {
            for (key, value) in r {
                let child = format!("{path}/{}", escape(key));
                match l.get(key) {
                    Some(old) => diff_adds(old, value, &child, ops),
                    None => ops.push(json!({"op": "add", "path": child, "value": value})),
                }
            }
            assert!(
                l.keys().all(|k| r.contains_key(k)),
                "{path}: a key was removed"
            );
        }
        (Value::Array(l), Value::Array(r)) => {
            assert!(l.len() <= r.len(), "{path}: an item was removed");
            for (i, value) in r.iter().enumerate() {
                match l.get(i) {
                    Some(old) => diff_adds(old, value, &format!("{path}/{i}"), ops),
                    None => ops
                        .push(json!({"op": "add", "path": format!("{path}/{i}"), "value": value})),
                }
            }
        }
        (l, r) => assert_eq!(l, r, "{path}: a value was replaced"),
    }
}

pub(crate) fn sorted_by_path(ops: &[Value]) -> Vec<Value> {
    let mut ops = ops.to_vec();
    ops.sort_by(|a, b| a["path"].as_str().cmp(&b["path"].as_str()));
    ops
}

#[test]
fn e2e_bats_expectations_hold_for_the_policy() {
    let cases = bats_cases();
    assert!(cases.len() >= 5, "{cases:?}");
    let mut seen = BTreeSet::new();
    for case in &cases {
        let [session, request, settings_file] = &case.run[..] else {
            panic!("{}: policy_run SESSION REQUEST SETTINGS", case.name);
        };
        assert!(!case.asserts.is_empty(), "{}: no assertion", case.name);
        let request_json = json_file(&format!("test_data/{request}"));
        let settings: Value = json_file(&format!("test_data/{settings_file}"));
        let settings_check = check_settings(&settings.to_string());
        let replay = if session == "-" {
            Replay::none()
        } else {
            Replay::load(session)
        };
        let payload = serde_json::to_vec(&json!({"request": request_json, "settings": settings}))
            .unwrap_or_default();
        // one evaluation per case, as kwctl makes one
        let answer = settings_check.is_ok().then(|| review(&payload, &replay));
        let list = |file: &str| -> Vec<String> {
            serde_json::from_value(json_file(&format!("test_data/{file}")))
                .unwrap_or_else(|e| panic!("{file}: a JSON list of strings: {e}"))
        };
        let joined = |items: &[String]| format!("azure-workload-identity: {}", items.join("; "));
        for assertion in &case.asserts {
            let name = format!("{}: {}", case.name, assertion.join(" "));
            seen.insert(assertion[0].clone());
            let answer = || {
                answer
                    .clone()
                    .unwrap_or_else(|| panic!("{name}: {:?}", settings_check.as_ref().err()))
            };
            match (assertion[0].as_str(), &assertion[1..]) {
                ("assert_settings_rejected", expected) => {
                    let error = settings_check.clone().expect_err(&name);
                    for e in expected {
                        assert!(error.contains(e.as_str()), "{name}: {error}");
                    }
                }
                ("assert_accepted_unchanged", []) => {
                    assert_eq!(answer(), Decision::Accept.into(), "{name}");
                }
                ("assert_no_warnings", []) => {
                    assert_eq!(answer().warnings, Vec::<String>::new(), "{name}");
                }
                ("assert_rejected_with", expected) => {
                    let Decision::Reject(rejection) = answer().decision else {
                        panic!("{name}: not rejected");
                    };
                    for e in expected {
                        assert!(rejection.0.contains(e.as_str()), "{name}: {}", rejection.0);
                    }
                }
                ("assert_rejected_with_findings", [findings]) => {
                    let expected = Rejection(joined(&list(findings)));
                    assert_eq!(answer().decision, Decision::Reject(expected), "{name}");
                }
                ("assert_warned", [warnings]) => {
                    let warnings = list(warnings);
                    let expected = Answer {
                        decision: Decision::Accept,
                        message: Some(joined(&warnings)),
                        warnings,
                    };
                    assert_eq!(answer(), expected, "{name}");
                }
                ("assert_patch", [patch_file]) => {
                    check_patch(&name, &answer(), &request_json, patch_file)
                }
                ("assert_patch_and_warnings", [patch_file, warnings]) => {
                    check_patch(&name, &answer(), &request_json, patch_file);
                    assert_eq!(answer().warnings, list(warnings), "{name}");
                }
                _ => panic!("{name}: unknown assertion"),
            }
        }
        assert!(
            replay.exchanges.borrow().is_empty(),
            "{}: the session holds exchanges the policy did not use",
            case.name
        );
    }
    for needed in [
        "assert_patch",
        "assert_accepted_unchanged",
        "assert_rejected_with",
        "assert_settings_rejected",
        "assert_warned",
        "assert_rejected_with_findings",
        "assert_patch_and_warnings",
    ] {
        assert!(seen.contains(needed), "e2e.bats has no {needed} case");
    }
}

/// The answer mutates the request's object exactly as the JSON Patch of `patch_file` does, and
/// kwctl's diff of the two gives that patch.
fn check_patch(name: &str, answer: &Answer, request: &Value, patch_file: &str) {
    let Decision::Mutate(pod) = &answer.decision else {
        panic!("{name}: not mutated");
    };
    let expected = json_file(&format!("test_data/{patch_file}"));
    let object = &request["object"];
    let mut patched = object.clone();
    apply_adds(&mut patched, &expected);
    assert_eq!(
        &patched, pod,
        "{name}: the patch does not yield the policy's Pod"
    );
    let mut ops = Vec::new();
    diff_adds(object, pod, "", &mut ops);
    assert_eq!(
        sorted_by_path(&ops),
        sorted_by_path(expected.as_array().expect("array")),
        "{name}: kwctl's diff would differ"
    );
}

#[test]
fn the_e2e_patch_turns_the_request_into_the_expected_pod_fixture() {
    let mut pod = json_file("test_data/request-labelled-pod.json")["object"].clone();
    apply_adds(&mut pod, &json_file("test_data/e2e-patch-mutate.json"));
    assert_eq!(pod, json_file("test_data/expected-labelled-pod.json"));
}
