{
  "targets": [{
    "target_name": "faiss_node",
    "sources": ["src/addon.cc", "src/common.cc", "src/structure.cc", "src/index_wrap.cc", "src/maxsim.cc", "src/matmul.cc", "src/kmeans.cc", "src/residual.cc"],
    "include_dirs": ["<!@(node -p \"require('node-addon-api').include\")"],
    "defines": ["NAPI_VERSION=8", "NAPI_CPP_EXCEPTIONS"],
    "cflags_cc!": ["-fno-exceptions", "-fno-rtti"],
    "cflags_cc": ["-std=c++17", "-fexceptions", "-O2", "-fopenmp"],
    "libraries": ["-lfaiss", "-lopenblas", "-fopenmp"]
  }]
}
