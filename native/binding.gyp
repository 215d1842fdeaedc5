{
  # One addon, built against N-API 8 so the same binary loads in Node 20, Node 24 and Electron.
  "targets": [
    {
      "target_name": "shmscope",
      "sources": [
        "src/addon.cc",
        "src/errors.cc",
        "src/args.cc",
        "src/sysv_shm.cc",
        "src/posix_shm.cc",
        "src/sem.cc",
        "src/psem.cc",
        "src/msg.cc",
        "src/waiter.cc",
        "src/procfs.cc",
        "src/scan.cc",
        "src/guarded.cc",
        "src/proc_scan.cc",
        "src/mappings.cc",
        "src/namespaces.cc",
        "src/ns_devshm.cc",
        "src/threads.cc",
        "src/peers.cc"
      ],
      "include_dirs": ["<!(node -p \"require('node-addon-api').include_dir\")"],
      "defines": [
        "NAPI_VERSION=8",
        "NAPI_CPP_EXCEPTIONS",
        "NODE_ADDON_API_DISABLE_DEPRECATED",
        "_GNU_SOURCE",
        "_FORTIFY_SOURCE=2"
      ],
      "cflags!": ["-fno-exceptions"],
      "cflags_cc!": ["-fno-exceptions", "-fno-rtti"],
      "cflags_cc": [
        "-std=c++17", "-fexceptions", "-O2", "-Wall", "-Wextra", "-Werror",
        "-fstack-protector-strong", "-fPIC", "-Wformat", "-Wformat-security"
      ],
      "ldflags": ["-Wl,-z,relro", "-Wl,-z,now", "-Wl,-z,noexecstack"],
      "libraries": ["-lrt", "-lpthread"]
    }
  ],
  # The DWARF reader of `shmscope import PROGRAM` (elfutils' libdw), a separate addon that only the
  # CLI loads: built when libdw's headers are there (Debian libdw-dev), skipped otherwise.
  "variables": {
    "have_libdw": "<!(test -e /usr/include/elfutils/libdw.h && echo 1 || echo 0)"
  },
  "conditions": [
    ["have_libdw==1", {
      "targets": [
        {
          "target_name": "shmscope_dwarf",
          "sources": ["src/dwarf.cc"],
          "include_dirs": ["<!(node -p \"require('node-addon-api').include_dir\")"],
          "defines": ["NAPI_VERSION=8", "NAPI_CPP_EXCEPTIONS", "NODE_ADDON_API_DISABLE_DEPRECATED", "_GNU_SOURCE", "_FORTIFY_SOURCE=2"],
          "cflags!": ["-fno-exceptions"],
          "cflags_cc!": ["-fno-exceptions", "-fno-rtti"],
          "cflags_cc": [
            "-std=c++17", "-fexceptions", "-O2", "-Wall", "-Wextra", "-Werror",
            "-fstack-protector-strong", "-fPIC", "-Wformat", "-Wformat-security"
          ],
          "ldflags": ["-Wl,-z,relro", "-Wl,-z,now", "-Wl,-z,noexecstack"],
          "libraries": ["-ldw", "-lelf"]
        }
      ]
    }]
  ]
}
