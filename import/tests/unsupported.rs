//! Unsupported operators and attributes are refused with the ONNX node's name.

use vouch_import::{ImportError, load_onnx};

fn fixture(name: &str) -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(name)
}

#[test]
fn unsupported_operator_names_the_node() {
    let err = load_onnx(&fixture("unsupported-sigmoid.onnx")).unwrap_err();
    let ImportError::Unsupported { node, op_type, .. } = &err else {
        panic!("{err}")
    };
    assert_eq!((node.as_str(), op_type.as_str()), ("squash", "Sigmoid"));
    let text = err.to_string();
    assert!(
        text.contains("squash") && text.contains("Sigmoid"),
        "{text}"
    );
}

#[test]
fn unsupported_attribute_names_the_node() {
    let err = load_onnx(&fixture("unsupported-dilation.onnx")).unwrap_err();
    let ImportError::Unsupported {
        node,
        op_type,
        reason,
    } = &err
    else {
        panic!("{err}")
    };
    assert_eq!((node.as_str(), op_type.as_str()), ("dilated_conv", "Conv"));
    assert!(reason.contains("dilations"), "{reason}");
}
