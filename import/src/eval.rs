//! Accuracy of a quantized model (and its float original) on a labelled data set.

use crate::{
    dataset::Dataset,
    error::{ImportError, Result},
    graph::FloatGraph,
    layout::to_vouch_order,
};
use vouch_core::{Model, tensor::argmax};

/// Quantizes one float input (ONNX layout: `[N]` or `[C, H, W]` row-major) to the model's int8
/// input in Vouch layout (H, W, C), with the model's input scale and zero point.
///
/// Values outside the representable range saturate to −128 / 127. An input of the wrong length is
/// an [`ImportError::InputLength`].
pub fn quantize_input(model: &Model, input: &[f32]) -> Result<Vec<i8>> {
    if input.len() != model.input.len() {
        return Err(ImportError::InputLength {
            expected: model.input.len(),
            actual: input.len(),
        });
    }
    let scale = f64::from(model.meta.input_scale);
    let zero = f64::from(model.input_zero);
    Ok(to_vouch_order(model.input, input)
        .into_iter()
        .map(|x| (f64::from(x) / scale + zero).round().clamp(-128.0, 127.0) as i8)
        .collect())
}

/// Index of the largest float (the first on ties); `None` for an empty slice.
pub fn argmax_f32(v: &[f32]) -> Option<usize> {
    v.iter()
        .enumerate()
        .fold(None, |best: Option<(usize, f32)>, (i, &x)| match best {
            Some((_, b)) if b >= x => best,
            _ => Some((i, x)),
        })
        .map(|(i, _)| i)
}

/// Accuracy figures from [`evaluate`].
#[derive(Debug, Clone, PartialEq)]
pub struct EvalReport {
    /// Inputs evaluated.
    pub count: usize,
    /// Quantized argmax per input.
    pub quantized_predictions: Vec<usize>,
    /// Float argmax per input (empty without a float graph).
    pub float_predictions: Vec<usize>,
    /// Quantized argmax == label, as a fraction (needs labels).
    pub quantized_accuracy: Option<f64>,
    /// Float argmax == label (needs labels and the float graph).
    pub float_accuracy: Option<f64>,
    /// Quantized argmax == float argmax (needs the float graph).
    pub agreement: Option<f64>,
}

fn fraction(hits: usize, n: usize) -> f64 {
    if n == 0 { 0.0 } else { hits as f64 / n as f64 }
}

fn pct(v: Option<f64>) -> String {
    v.map_or_else(|| "-".into(), |v| format!("{:.2}%", 100.0 * v))
}

impl std::fmt::Display for EvalReport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} inputs: quantized accuracy {}, float accuracy {}, argmax agreement {}",
            self.count,
            pct(self.quantized_accuracy),
            pct(self.float_accuracy),
            pct(self.agreement)
        )
    }
}

/// Runs `model` (with the reference interpreter) and, if given, the float `graph` on every input of
/// `data`, comparing argmaxes with each other and with the labels. An input whose length is not the
/// model's is an [`ImportError::InputLength`], before anything runs.
pub fn evaluate(model: &Model, graph: Option<&FloatGraph>, data: &Dataset) -> Result<EvalReport> {
    let quantized_predictions: Vec<usize> = data
        .inputs
        .iter()
        .map(|x| {
            let trace = vouch_core::reference::run(model, &quantize_input(model, x)?)?;
            Ok(argmax(trace.output()).unwrap_or(0))
        })
        .collect::<Result<_>>()?;
    let float_predictions: Vec<usize> = graph
        .map(|g| {
            data.inputs
                .iter()
                .map(|x| argmax_f32(&g.forward(x)).unwrap_or(0))
                .collect()
        })
        .unwrap_or_default();
    let n = data.inputs.len();
    let hits = |p: &[usize], l: &[usize]| p.iter().zip(l).filter(|(a, b)| a == b).count();
    let labels = data.labels.as_deref();
    Ok(EvalReport {
        count: n,
        quantized_accuracy: labels.map(|l| fraction(hits(&quantized_predictions, l), n)),
        float_accuracy: labels
            .filter(|_| graph.is_some())
            .map(|l| fraction(hits(&float_predictions, l), n)),
        agreement: graph.map(|_| fraction(hits(&quantized_predictions, &float_predictions), n)),
        quantized_predictions,
        float_predictions,
    })
}
