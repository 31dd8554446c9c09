// CPU kernels of DR1Conv's inference path (dr1_conv_kernels.py loads them; dr1_conv.py
// uses them). A convolution of an NCHW tensor in PyTorch's CPU library (oneDNN) reorders
// its input into a blocked layout and its output back, two passes over memory; its
// convolution of a channels-last tensor needs neither. These two kernels are those two
// passes with DR1Conv's products done on the way (Eq. 4): X ∘ A written channels-last,
// and act(Y) ∘ B written back to NCHW. Each equals its tensor form (the tests compare).
#include <torch/extension.h>

#include <ATen/Parallel.h>

#include <algorithm>

namespace {

// Pixels per task: the tile's C channel rows of X and A are read contiguously and its
// channels-last output (TILE * C floats) stays in the L1 cache while it is written.
constexpr int64_t TILE = 32;

void check_nchw(const at::Tensor& t, const char* name) {
  TORCH_CHECK(t.dim() == 4 && t.scalar_type() == at::kFloat && t.device().is_cpu(),
              "DR1Conv kernel: ", name, " must be a 4-d float32 CPU tensor");
}

// Calls tile(offset, p0, p1) on PyTorch's threads for every tile of TILE pixels of each of
// the n images of `plane` pixels and c channels; offset is the image's first element.
template <typename Tile>
void for_each_tile(int64_t n, int64_t c, int64_t plane, const Tile& tile) {
  const int64_t tiles = (plane + TILE - 1) / TILE;
  at::parallel_for(0, n * tiles, 1, [&](int64_t begin, int64_t end) {
    for (int64_t task = begin; task < end; ++task) {
      const int64_t p0 = (task % tiles) * TILE;
      tile((task / tiles) * c * plane, p0, std::min(plane, p0 + TILE));
    }
  });
}

}  // namespace

// (N, C, H, W) contiguous X and optional A of the same shape -> X ∘ A (X when A is None)
// as an (N, C, H, W) tensor in channels-last memory.
at::Tensor mul_to_channels_last(const at::Tensor& x, const c10::optional<at::Tensor>& a) {
  check_nchw(x, "X");
  TORCH_CHECK(x.is_contiguous(), "DR1Conv kernel: X must be contiguous (NCHW)");
  const bool with_a = a.has_value() && a->defined();
  if (with_a) {
    check_nchw(*a, "A");
    TORCH_CHECK(a->sizes() == x.sizes() && a->is_contiguous(),
                "DR1Conv kernel: A must be contiguous and shaped like X");
  }
  const int64_t n = x.size(0), c = x.size(1), plane = x.size(2) * x.size(3);
  auto out = at::empty_like(x, at::MemoryFormat::ChannelsLast);
  const float* xp = x.data_ptr<float>();
  const float* ap = with_a ? a->data_ptr<float>() : nullptr;
  float* op = out.data_ptr<float>();
  for_each_tile(n, c, plane, [&](int64_t offset, int64_t p0, int64_t p1) {
    float* o = op + offset;
    for (int64_t ch = 0; ch < c; ++ch) {
      const float* xr = xp + offset + ch * plane;
      if (ap != nullptr) {
        const float* ar = ap + offset + ch * plane;
        for (int64_t p = p0; p < p1; ++p) o[p * c + ch] = xr[p] * ar[p];
      } else {
        for (int64_t p = p0; p < p1; ++p) o[p * c + ch] = xr[p];
      }
    }
  });
  return out;
}

// (N, C, H, W) Y in channels-last memory and optional contiguous B of its shape ->
// max(Y, 0) ∘ B (relu) or Y ∘ B, contiguous NCHW; without B just the activation. Written
// into the memory of `reuse` (a float32 CPU tensor nothing reads any more, e.g. the X ∘ A
// the convolution has consumed) where it holds exactly Y's size (a larger one would be
// kept alive by the smaller output): a fresh buffer of this size costs its page faults
// again whenever the allocator has given memory back.
at::Tensor act_mul_from_channels_last(const at::Tensor& y, const c10::optional<at::Tensor>& b,
                                      bool relu, const c10::optional<at::Tensor>& reuse) {
  check_nchw(y, "Y");
  TORCH_CHECK(y.is_contiguous(at::MemoryFormat::ChannelsLast),
              "DR1Conv kernel: Y must be channels-last");
  const bool with_b = b.has_value() && b->defined();
  if (with_b) {
    check_nchw(*b, "B");
    TORCH_CHECK(b->sizes() == y.sizes() && b->is_contiguous(),
                "DR1Conv kernel: B must be contiguous and shaped like Y");
  }
  const int64_t n = y.size(0), c = y.size(1), plane = y.size(2) * y.size(3);
  at::Tensor out;
  if (reuse.has_value() && reuse->defined() && reuse->scalar_type() == at::kFloat &&
      reuse->device().is_cpu() && reuse->storage_offset() == 0 && !reuse->is_alias_of(y) &&
      reuse->storage().nbytes() == static_cast<size_t>(y.numel()) * sizeof(float)) {
    const int64_t h = y.size(2), w = y.size(3);
    out = reuse->as_strided(y.sizes(), {c * h * w, h * w, w, 1});
  } else {
    out = at::empty(y.sizes(), y.options());
  }
  const float* yp = y.data_ptr<float>();
  const float* bp = with_b ? b->data_ptr<float>() : nullptr;
  float* op = out.data_ptr<float>();
  for_each_tile(n, c, plane, [&](int64_t offset, int64_t p0, int64_t p1) {
    const float* ys = yp + offset;
    for (int64_t ch = 0; ch < c; ++ch) {
      float* orow = op + offset + ch * plane;
      const float* br = bp != nullptr ? bp + offset + ch * plane : nullptr;
      for (int64_t p = p0; p < p1; ++p) {
        float v = ys[p * c + ch];
        if (relu) v = std::max(v, 0.f);
        orow[p] = br != nullptr ? v * br[p] : v;
      }
    }
  });
  return out;
}
