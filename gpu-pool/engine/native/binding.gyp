{
  "variables": {
    "faiss_avx2_dir%": "<!(node faiss-avx2-dir.cjs)",
    "addon_sources": ["src/addon.cc", "src/common.cc", "src/structure.cc", "src/index_wrap.cc", "src/maxsim.cc", "src/matmul.cc", "src/kmeans.cc", "src/residual.cc"]
  },
  "target_defaults": {
    "sources": ["<@(addon_sources)"],
    "include_dirs": ["<!@(node -p \"require('node-addon-api').include\")"],
    "defines": ["NAPI_VERSION=8", "NAPI_CPP_EXCEPTIONS"],
    "cflags_cc!": ["-fno-exceptions", "-fno-rtti"],
    "cflags_cc": ["-std=c++17", "-fexceptions", "-O2", "-fopenmp"]
  },
  "targets": [{
    "target_name": "faiss_node",
    "libraries": ["-lfaiss", "-lopenblas", "-fopenmp"]
  }],
  "conditions": [
    ["faiss_avx2_dir!=''", {
      "targets": [{
        "target_name": "faiss_node_avx2",
        "include_dirs": ["<(faiss_avx2_dir)/include"],
        "cflags_cc": ["-mavx2", "-mfma", "-mf16c", "-mpopcnt"],
        "libraries": ["<(faiss_avx2_dir)/lib/libfaiss_avx2.a", "-lopenblas", "-fopenmp"]
      }]
    }]
  ]
}
