//! The proxy sidecar (docs/behaviour.md §4.6): where `azwi-proxy` and `azwi-proxy-init` go in both
//! sidecar modes, the port annotation parsed like upstream, the rejections and their order, and
//! re-invocation with the proxy present.

use azure_workload_identity_policy::{Decision, Rejection};
use serde_json::{Value, json};

use rstest::rstest;

use crate::common::Rows;
use crate::common::minimal::*;

#[rstest]
#[case("native, no init containers", true, json!({"containers": [app("app")]}), json!([proxy(8000, true), proxy_init("8000")]), json!([mutated_app("app")]))]
#[case("native, existing init containers", true, json!({"initContainers": [app("init-a"), app("init-b")], "containers": [app("app")]}), json!([proxy(8000, true), mutated_app("init-a"), mutated_app("init-b"), proxy_init("8000")]), json!([mutated_app("app")]))]
#[case("legacy, no init containers", false, json!({"containers": [app("app"), app("second")]}), json!([proxy_init("8000")]), json!([proxy(8000, false), mutated_app("app"), mutated_app("second")]))]
#[case("legacy, existing init containers", false, json!({"initContainers": [app("init-a")], "containers": [app("app")]}), json!([mutated_app("init-a"), proxy_init("8000")]), json!([proxy(8000, false), mutated_app("app")]))]
fn proxy_placement_in_both_modes(
    #[case] name: &str,
    #[case] native: bool,
    #[case] spec: Value,
    #[case] init: Value,
    #[case] containers: Value,
) {
    // (case, useNativeSidecar, spec in, expected initContainers, expected containers)
    let (decision, calls) = run(
        &pod(json!({INJECT: "true"}), spec),
        settings(json!({"useNativeSidecar": native})),
    );
    assert_eq!(calls, 1, "{name}");
    let expected = pod(
        json!({INJECT: "true"}),
        json!({"initContainers": init, "containers": containers, "volumes": [volume("api://AzureADTokenExchange", &[])]}),
    );
    assert_eq!(decision, Decision::Mutate(expected), "{name}");
}

#[rstest]
#[case("false", None, 8000, "8000")]
#[case("", None, 8000, "8000")]
#[case("true", Some("9000"), 9000, "9000")]
#[case("true", Some("+9000"), 9000, "9000")]
#[case("true", Some("09000"), 9000, "9000")]
#[case("true", Some("0"), 0, "0")]
#[case("true", Some("70000"), 70000, "70000")]
#[case("true", Some("-1"), -1, "-1")]
fn proxy_annotation_value_is_ignored_and_port_parsed_like_upstream(
    #[case] value: &str,
    #[case] port: Option<&str>,
    #[case] number: i64,
    #[case] text: &str,
) {
    // (inject value, port annotation, expected port number, expected PROXY_PORT)
    let mut annotations = json!({INJECT: value});
    if let (Some(p), Some(obj)) = (port, annotations.as_object_mut()) {
        obj.insert(PORT.into(), json!(p));
    }
    let (decision, _) = run(
        &pod(annotations.clone(), json!({"containers": [app("app")]})),
        settings(json!({})),
    );
    let expected = pod(
        annotations,
        json!({
            "initContainers": [proxy(number, true), proxy_init(text)],
            "containers": [mutated_app("app")],
            "volumes": [volume("api://AzureADTokenExchange", &[])],
        }),
    );
    assert_eq!(
        decision,
        Decision::Mutate(expected),
        "inject {value:?}, port {port:?}"
    );
}

#[test]
fn proxy_rejections() {
    let cases = [
        (
            json!({INJECT: "true", PORT: "80a"}),
            json!({"containers": [app("app")]}),
            "azure-workload-identity: Pod \"ns/pod\": annotation \"azure.workload.identity/proxy-sidecar-port\" has the value \"80a\": failed to parse proxy sidecar port: strconv.ParseInt: parsing \"80a\": invalid syntax. Set it to a port number such as \"8000\", or remove it to use 8000",
        ),
        (
            json!({INJECT: "true", PORT: ""}),
            json!({"containers": [app("app")]}),
            "azure-workload-identity: Pod \"ns/pod\": annotation \"azure.workload.identity/proxy-sidecar-port\" has the value \"\": failed to parse proxy sidecar port: strconv.ParseInt: parsing \"\": invalid syntax. Set it to a port number such as \"8000\", or remove it to use 8000",
        ),
        (
            json!({INJECT: "true", PORT: "2147483648"}),
            json!({"containers": [app("app")]}),
            "azure-workload-identity: Pod \"ns/pod\": annotation \"azure.workload.identity/proxy-sidecar-port\" has the value \"2147483648\": failed to parse proxy sidecar port: strconv.ParseInt: parsing \"2147483648\": value out of range. Set it to a port number such as \"8000\", or remove it to use 8000",
        ),
        (
            // hostNetwork is checked before the port (upstream step 4)
            json!({INJECT: "true", PORT: "bad"}),
            json!({"hostNetwork": true, "containers": [app("app")]}),
            "azure-workload-identity: Pod \"ns/pod\": hostNetwork is set to true, cannot inject proxy sidecar (its init container would rewrite the node's iptables). Remove the annotation \"azure.workload.identity/inject-proxy-sidecar\" or set spec.hostNetwork to false",
        ),
        (
            // the proxy checks come before the token expiration (upstream steps 4 and 5)
            json!({INJECT: "true", PORT: "x", "azure.workload.identity/service-account-token-expiration": "1"}),
            json!({"containers": [app("app")]}),
            "azure-workload-identity: Pod \"ns/pod\": annotation \"azure.workload.identity/proxy-sidecar-port\" has the value \"x\": failed to parse proxy sidecar port: strconv.ParseInt: parsing \"x\": invalid syntax. Set it to a port number such as \"8000\", or remove it to use 8000",
        ),
    ];
    let mut rows = Rows::new();
    for (annotations, spec, message) in cases {
        rows.check(annotations.to_string(), || {
            let (decision, _) = run(&pod(annotations.clone(), spec), settings(json!({})));
            assert_eq!(
                decision,
                Decision::Reject(Rejection(message.to_string())),
                "{annotations}"
            );
        });
    }
    rows.assert_all_passed();
    // hostNetwork without the proxy is fine
    let (decision, _) = run(
        &pod(
            json!({}),
            json!({"hostNetwork": true, "containers": [app("app")]}),
        ),
        settings(json!({})),
    );
    assert!(matches!(decision, Decision::Mutate(_)));
}

#[test]
fn skip_containers_can_name_the_injected_proxy_containers() {
    let annotations = json!({INJECT: "true", "azure.workload.identity/skip-containers": "azwi-proxy; azwi-proxy-init"});
    let (decision, _) = run(
        &pod(annotations.clone(), json!({"containers": [app("app")]})),
        settings(json!({})),
    );
    let mut bare_proxy = proxy(8000, true);
    let mut bare_init = proxy_init("8000");
    for c in [&mut bare_proxy, &mut bare_init] {
        if let Some(obj) = c.as_object_mut() {
            obj.remove("volumeMounts");
            if obj.get("name") == Some(&json!("azwi-proxy")) {
                obj.remove("env");
            } else {
                obj.insert(
                    "env".into(),
                    json!([{"name": "PROXY_PORT", "value": "8000"}]),
                );
            }
        }
    }
    let expected = pod(
        annotations,
        json!({
            "initContainers": [bare_proxy, bare_init],
            "containers": [mutated_app("app")],
            "volumes": [volume("api://AzureADTokenExchange", &[])],
        }),
    );
    assert_eq!(decision, Decision::Mutate(expected));
}

#[test]
fn reinvocation_with_the_proxy_present_changes_nothing() {
    let mut rows = Rows::new();
    for native in [true, false] {
        rows.check(native, || {
            let s = settings(json!({"useNativeSidecar": native}));
            let first = run(
                &pod(json!({INJECT: "true"}), json!({"containers": [app("app")]})),
                s.clone(),
            );
            let Decision::Mutate(mutated) = first.0 else {
                panic!("first pass did not mutate: {first:?}");
            };
            let (second, _) = run(&mutated, s);
            assert_eq!(second, Decision::Accept, "native {native}");
        });
    }
    rows.assert_all_passed();
}

#[test]
fn existing_proxy_containers_are_not_injected_again() {
    // legacy mode: an azwi-proxy already in containers; native mode looks in initContainers
    let user_proxy = json!({"name": "azwi-proxy", "image": "mine"});
    let (decision, _) = run(
        &pod(
            json!({INJECT: "true"}),
            json!({"containers": [user_proxy.clone(), app("app")]}),
        ),
        settings(json!({"useNativeSidecar": false})),
    );
    let expected = pod(
        json!({INJECT: "true"}),
        json!({
            "initContainers": [proxy_init("8000")],
            "containers": [
                json!({"name": "azwi-proxy", "image": "mine", "env": env(&[]), "volumeMounts": [mount()]}),
                mutated_app("app"),
            ],
            "volumes": [volume("api://AzureADTokenExchange", &[])],
        }),
    );
    assert_eq!(decision, Decision::Mutate(expected));

    // native mode: an azwi-proxy in containers does not count, one in initContainers does
    let (decision, _) = run(
        &pod(
            json!({INJECT: "true"}),
            json!({"initContainers": [user_proxy.clone()], "containers": [app("app")]}),
        ),
        settings(json!({"useNativeSidecar": true})),
    );
    let expected = pod(
        json!({INJECT: "true"}),
        json!({
            "initContainers": [
                json!({"name": "azwi-proxy", "image": "mine", "env": env(&[]), "volumeMounts": [mount()]}),
                proxy_init("8000"),
            ],
            "containers": [mutated_app("app")],
            "volumes": [volume("api://AzureADTokenExchange", &[])],
        }),
    );
    assert_eq!(decision, Decision::Mutate(expected));
}
