//! The Burn backends and their devices.

use burn::tensor::{DType, Device, Element, Int, Tensor, TensorData};

/// Which Burn backend runs the model.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum BurnBackend {
    /// `burn-flex`: Burn's portable pure-Rust CPU backend.
    #[default]
    Flex,
    /// `burn-ndarray`: the ndarray CPU backend.
    NdArray,
    /// `burn-wgpu`: CubeCL on wgpu's default adapter (Vulkan, Metal, DX12 or WebGPU).
    #[cfg(feature = "wgpu")]
    Wgpu,
}

impl BurnBackend {
    /// Every backend compiled into this build.
    pub const ALL: &'static [BurnBackend] = &[
        BurnBackend::Flex,
        BurnBackend::NdArray,
        #[cfg(feature = "wgpu")]
        BurnBackend::Wgpu,
    ];

    /// The name [`FromStr`](std::str::FromStr) accepts.
    pub fn name(self) -> &'static str {
        match self {
            BurnBackend::Flex => "flex",
            BurnBackend::NdArray => "ndarray",
            #[cfg(feature = "wgpu")]
            BurnBackend::Wgpu => "wgpu",
        }
    }

    /// The backend's default device.
    pub fn device(self) -> Device {
        match self {
            BurnBackend::Flex => Device::new(burn::backend::FlexDevice),
            // Deprecated upstream in favour of flex, kept as a second independent CPU implementation.
            #[allow(deprecated)]
            BurnBackend::NdArray => Device::new(burn::backend::NdArrayDevice::Cpu),
            #[cfg(feature = "wgpu")]
            BurnBackend::Wgpu => Device::new(burn::backend::WgpuDevice::default()),
        }
    }
}

impl std::str::FromStr for BurnBackend {
    type Err = String;
    fn from_str(s: &str) -> std::result::Result<Self, String> {
        Self::ALL
            .iter()
            .copied()
            .find(|b| b.name() == s)
            .ok_or_else(|| {
                let names: Vec<_> = Self::ALL.iter().map(|b| b.name()).collect();
                format!("unknown backend {s:?} (compiled in: {})", names.join(", "))
            })
    }
}

/// An integer tensor of `dtype` on `device` from integer values of any width.
pub(crate) fn int_tensor<E: Element, const D: usize>(
    values: Vec<E>,
    shape: [usize; D],
    dtype: DType,
    device: &Device,
) -> Tensor<D, Int> {
    Tensor::from_data(
        TensorData::new(values, shape).convert_dtype(dtype),
        (device, dtype),
    )
}
