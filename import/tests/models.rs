//! End-to-end: import the five example models, check the float paths against onnxruntime, and the
//! quantized models against the accuracy bar and across executors.

use std::{
    path::PathBuf,
    sync::OnceLock,
    time::{Duration, Instant},
};
use vouch_burn::{BurnBackend, BurnModel, MatmulMode};
use vouch_core::Model;
use vouch_import::{
    BurnFloatModel, Dataset, EvalReport, FloatGraph, ImportOptions, QuantReport, eval::argmax_f32,
    evaluate, load_onnx, quantize, quantize_input,
};

/// `(model, data set prefix)`.
const MODELS: &[(&str, &str)] = &[
    ("digits-mlp-64-32-10", "digits"),
    ("digits-mlp-64-256-10", "digits"),
    ("digits-cnn", "digits"),
    ("digits-resmlp", "digits"),
    ("mnist-mlp-784-128-10", "mnist"),
];

/// The models directory: `$VOUCH_MODELS`, or `models/` next to this crate in the workspace.
fn models_dir() -> PathBuf {
    if let Ok(dir) = std::env::var("VOUCH_MODELS") {
        return dir.into();
    }
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../models")
}

#[derive(serde::Deserialize)]
struct Expected {
    logits: Vec<Vec<f32>>,
    argmax: Vec<usize>,
}

struct Imported {
    name: &'static str,
    graph: FloatGraph,
    test: Dataset,
    expected: Expected,
    model: Model,
    report: QuantReport,
    import_time: Duration,
}

fn imported() -> &'static [Imported] {
    static CELL: OnceLock<Vec<Imported>> = OnceLock::new();
    CELL.get_or_init(|| {
        let dir = models_dir();
        MODELS
            .iter()
            .map(|&(name, data)| {
                let start = Instant::now();
                let graph = load_onnx(&dir.join(format!("{name}.onnx"))).unwrap();
                let shape = graph.input.dims();
                let calib =
                    Dataset::load(&dir.join(format!("data/{data}-calib.json")), None, &shape)
                        .unwrap();
                let options = ImportOptions {
                    labels: (0..10).map(|d| d.to_string()).collect(),
                    ..Default::default()
                };
                let (model, report) =
                    quantize(&graph, &calib.inputs, &options, &mut |_, _| {}).unwrap();
                let import_time = start.elapsed();
                let test = Dataset::load(&dir.join(format!("data/{data}-test.json")), None, &shape)
                    .unwrap();
                let text =
                    std::fs::read_to_string(dir.join(format!("expected/{name}.json"))).unwrap();
                let expected: Expected = serde_json::from_str(&text).unwrap();
                Imported {
                    name,
                    graph,
                    test,
                    expected,
                    model,
                    report,
                    import_time,
                }
            })
            .collect()
    })
}

#[test]
fn float_reference_matches_onnxruntime() {
    for m in imported() {
        let mut worst = 0f32;
        for (i, (x, want)) in m.test.inputs.iter().zip(&m.expected.logits).enumerate() {
            let got = m.graph.forward(x);
            assert_eq!(got.len(), want.len(), "{}", m.name);
            worst = got
                .iter()
                .zip(want)
                .map(|(a, b)| (a - b).abs())
                .fold(worst, f32::max);
            assert_eq!(
                argmax_f32(&got),
                Some(m.expected.argmax[i]),
                "{} input {i}",
                m.name
            );
        }
        println!(
            "{}: float reference vs onnxruntime max |Δlogit| = {worst:.2e}",
            m.name
        );
        assert!(worst <= 1e-4, "{}: {worst}", m.name);
    }
}

#[test]
fn burn_float_matches_reference() {
    for m in imported() {
        let burn = BurnFloatModel::new(
            &m.graph,
            burn::tensor::Device::new(burn::backend::FlexDevice),
        );
        let batch: Vec<Vec<f32>> = m.test.inputs.iter().take(64).cloned().collect();
        let outs = burn.forward_batch(&batch);
        assert_eq!(outs.len(), batch.len());
        let mut worst = 0f32;
        for (x, got) in batch.iter().zip(&outs) {
            let want = m.graph.forward(x);
            worst = got
                .iter()
                .zip(&want)
                .map(|(a, b)| (a - b).abs())
                .fold(worst, f32::max);
        }
        // A batch may block the matmul differently from a single input: equal up to f32 rounding.
        let single = burn.forward(&batch[0]);
        assert!(
            single
                .iter()
                .zip(&outs[0])
                .all(|(a, b)| (a - b).abs() <= 1e-4),
            "{}: single vs batch",
            m.name
        );
        println!("{}: burn f32 vs reference max |Δ| = {worst:.2e}", m.name);
        assert!(worst <= 1e-4, "{}: {worst}", m.name);
    }
}

#[test]
fn quantized_models_meet_the_accuracy_bar() {
    for m in imported() {
        let r: EvalReport = evaluate(&m.model, Some(&m.graph), &m.test).unwrap();
        let (q, f) = (r.quantized_accuracy.unwrap(), r.float_accuracy.unwrap());
        let ort = r
            .quantized_predictions
            .iter()
            .zip(&m.expected.argmax)
            .filter(|(a, b)| a == b)
            .count() as f64
            / r.count as f64;
        println!("{}\n{}", m.report, r);
        println!(
            "SUMMARY {}: float acc {:.4}, quantized acc {:.4}, agreement vs float {:.4}, vs onnxruntime {:.4}, worst layer err {:.4}, import {:.2?}",
            m.name,
            f,
            q,
            r.agreement.unwrap(),
            ort,
            m.report.worst_error(),
            m.import_time
        );
        assert!(q >= f - 0.01, "{}: quantized {q} vs float {f}", m.name);
        assert!(
            ort >= 0.99,
            "{}: argmax agreement with onnxruntime {ort}",
            m.name
        );
    }
}

#[test]
fn quantized_models_validate_and_round_trip() {
    for m in imported() {
        m.model.validate().unwrap();
        let bytes = m.model.to_bytes();
        assert_eq!(bytes.len(), m.report.file_size);
        assert_eq!(Model::from_bytes(&bytes).unwrap(), m.model, "{}", m.name);
        assert_eq!(
            vouch_core::commit::model_root(&m.model),
            m.report.model_root
        );
        assert_eq!(m.report.layers.len(), m.model.ops.len());
        assert_eq!(
            m.report.parameter_count,
            m.graph.parameter_count(),
            "{}",
            m.name
        );
    }
}

#[test]
fn quantized_models_run_identically_on_burn() {
    for m in imported() {
        for mode in [MatmulMode::Int, MatmulMode::F32Chunked] {
            let burn = BurnModel::new(&m.model, BurnBackend::Flex, mode);
            for (i, x) in m.test.inputs.iter().take(16).enumerate() {
                let q = quantize_input(&m.model, x).unwrap();
                let want = vouch_core::reference::run(&m.model, &q).unwrap();
                let got = burn.run(&q).unwrap();
                assert_eq!(
                    got.first_difference(&want),
                    None,
                    "{} {mode:?} input {i}",
                    m.name
                );
            }
        }
    }
}

#[test]
fn cnn_is_fused_and_laid_out_for_vouch() {
    let m = imported().iter().find(|m| m.name == "digits-cnn").unwrap();
    let kinds: Vec<&str> = m.model.ops.iter().map(|op| op.kind.name()).collect();
    // Conv+Relu, MaxPool, Conv+Relu, AvgPool, (Flatten is nothing) Gemm.
    assert_eq!(kinds, ["conv2d", "maxpool", "conv2d", "avgpool", "dense"]);
    assert_eq!(m.model.input, vouch_core::Shape::new(8, 8, 1));
    let resmlp = imported()
        .iter()
        .find(|m| m.name == "digits-resmlp")
        .unwrap();
    let kinds: Vec<&str> = resmlp.model.ops.iter().map(|op| op.kind.name()).collect();
    assert_eq!(kinds, ["dense", "dense", "add", "dense"]);
}

#[test]
fn committed_models_are_what_the_importer_produces() {
    // models/*.vouch (made by scripts/quantize-models.sh) must be reproducible from the ONNX files:
    // same bytes, so same root. Names differ (the CLI names a model after its file).
    for m in imported() {
        let path = models_dir().join(format!("{}.vouch", m.name));
        let committed = Model::load(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        assert_eq!(committed.ops, m.model.ops, "{}", m.name);
        assert_eq!(
            vouch_core::commit::model_root(&committed),
            m.report.model_root,
            "{}: rerun scripts/quantize-models.sh",
            m.name
        );
    }
}
