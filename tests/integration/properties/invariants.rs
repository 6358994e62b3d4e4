//! The properties of the request flow (each a test, `PROPTEST_CASES` cases) and the census that
//! makes sure the generators reach every outcome.

use super::*;

/// Property 1: No crash: accept, mutate (with a Pod object) or reject (with a message naming the
/// policy); every strict prefix of the payload is rejected as unreadable, without a lookup.
#[test]
fn evaluation_never_crashes() {
    assert_property(
        || (arb_case(), any::<prop::sample::Index>()),
        |(case, cut)| {
            let sa = case.sa();
            let bytes = case.bytes();
            let observed = oracle::observe(&bytes, sa.as_ref());
            match &observed.decision {
                Decision::Accept => {}
                Decision::Mutate(pod) => {
                    prop_assert!(pod.get("spec").is_some_and(Value::is_object))
                }
                Decision::Reject(Rejection(message)) => {
                    prop_assert!(message.starts_with(oracle::MESSAGE_PREFIX), "{message}");
                }
            }
            let prefix = bytes.get(..cut.index(bytes.len())).unwrap_or_default();
            let truncated = oracle::observe(prefix, sa.as_ref());
            let unreadable = matches!(&truncated.decision,
                Decision::Reject(Rejection(m)) if m.starts_with(UNREADABLE));
            prop_assert!(
                unreadable && truncated.calls.is_empty(),
                "prefix of {} bytes: {}",
                prefix.len(),
                oracle::describe(&truncated.decision)
            );
            Ok(())
        },
    );
}

/// Property 2: Idempotent: a mutated Pod, evaluated again, is accepted unchanged.
#[test]
fn mutation_is_idempotent() {
    assert_property(arb_case, |case| {
        let sa = case.sa();
        let first = oracle::observe(&case.bytes(), sa.as_ref());
        if let Decision::Mutate(pod) = first.decision {
            let mut request = case.request.clone();
            if let Some(object) = request.get_mut("object") {
                *object = pod;
            }
            let second = oracle::observe(
                &oracle::payload(&request, Some(&case.settings)),
                sa.as_ref(),
            );
            prop_assert_eq!(
                &second.decision,
                &Decision::Accept,
                "second evaluation: {}",
                oracle::describe(&second.decision)
            );
            prop_assert_eq!(second.calls.len(), 1);
        }
        Ok(())
    });
}

/// Property 3: Lossless: every value of the input Pod is in the output unchanged, except the
/// same-named token volume and mount that docs/behaviour.md §5.1 replaces; nothing is removed.
#[test]
fn mutation_is_lossless() {
    assert_property(arb_case, |case| {
        let sa = case.sa();
        if let Decision::Mutate(output) = oracle::observe(&case.bytes(), sa.as_ref()).decision {
            prop_assert_ne!(&output, case.pod(), "a mutation that changes nothing");
            let changes = oracle::diff(case.pod(), &output).map_err(fail)?;
            prop_assert!(!changes.is_empty());
        }
        Ok(())
    });
}

/// Property 4: Deterministic: the same payload gives the same decision and lookups, also when it is
/// pretty-printed.
#[test]
fn evaluation_is_deterministic() {
    assert_property(arb_case, |case| {
        let sa = case.sa();
        let bytes = case.bytes();
        let first = oracle::observe(&bytes, sa.as_ref());
        let second = oracle::observe(&bytes, sa.as_ref());
        prop_assert_eq!(&first, &second);
        let pretty =
            serde_json::to_vec_pretty(&json!({"request": case.request, "settings": case.settings}))
                .map_err(|e| fail(e.to_string()))?;
        prop_assert_eq!(&first, &oracle::observe(&pretty, sa.as_ref()));
        Ok(())
    });
}

/// Property 5: Unselected ⇒ accepted untouched, and the ServiceAccount is not looked up.
#[test]
fn unselected_requests_are_accepted_without_a_lookup() {
    assert_property(arb_unselected_case, |case| {
        prop_assert!(!oracle::selected(&case.request));
        let observed = oracle::observe(&case.bytes(), case.sa().as_ref());
        prop_assert_eq!(
            &observed.decision,
            &Decision::Accept,
            "{}",
            oracle::describe(&observed.decision)
        );
        prop_assert!(observed.calls.is_empty(), "lookups: {:?}", observed.calls);
        Ok(())
    });
}
/// Property 6: the outcome is the one docs/behaviour.md predicts (`oracle::model`): the exact
/// mutated Pod, or the rejection with the right reason and lookups.
#[test]
fn outcome_is_the_one_the_model_predicts() {
    let cases = config().cases;
    let counts = in_big_stack(|| {
        let mut runner = TestRunner::new(config());
        let counts = std::cell::RefCell::new(BTreeMap::<Class, u32>::new());
        runner
            .run(&arb_case(), |case| {
                check_settings(&case.settings.to_string())
                    .map_err(|e| fail(format!("generated settings are invalid: {e}")))?;
                let sa = case.sa();
                let class =
                    oracle::check_case(&case.request, &case.settings, sa.as_ref()).map_err(fail)?;
                *counts.borrow_mut().entry(class).or_default() += 1;
                Ok(())
            })
            .map(|()| counts.into_inner())
            .map_err(|e| e.to_string())
    });
    eprintln!("outcomes over {cases} cases: {counts:?}");
}

/// The generators reach every kind of outcome, each in at least 2 % of the cases, so that the
/// properties above are not vacuous. A fixed seed and 500 cases classified by the model only,
/// so the census does not depend on the run.
#[test]
fn the_generators_reach_every_outcome() {
    let counts = in_big_stack(|| {
        let rng = TestRng::from_seed(RngAlgorithm::ChaCha, &[7u8; 32]);
        let mut runner = TestRunner::new_with_rng(config(), rng);
        let strategy = arb_case();
        let mut counts = BTreeMap::<Class, u32>::new();
        for _ in 0..500 {
            let case = strategy
                .new_tree(&mut runner)
                .map_err(|e| e.to_string())?
                .current();
            let sa = case.sa();
            let (_, class) = oracle::model(&case.request, &case.settings, sa.as_ref());
            *counts.entry(class).or_default() += 1;
        }
        Ok(counts)
    });
    eprintln!("outcomes over 500 generated cases: {counts:?}");
    let all = [
        Class::Unselected,
        Class::Malformed,
        Class::NoNamespace,
        Class::NotFound,
        Class::ClientId,
        Class::Proxy,
        Class::Expiration,
        Class::AlreadyInjected,
        Class::Mutated,
    ];
    let rare: Vec<_> = all
        .iter()
        .filter(|c| counts.get(c).copied().unwrap_or(0) < 10)
        .collect();
    assert!(
        rare.is_empty(),
        "the generators reach {rare:?} in less than 2 % of 500 cases: {counts:?}"
    );
}
