{
  "targets": [
    {
      "target_name": "udp_native",
      "conditions": [
        ["OS=='linux'", {
          "sources": ["native/udp_io.c", "native/udp_send.c", "native/udp_offload.c", "native/offload_js.c", "native/udp_poll.c", "native/udp_native.c", "native/udp_group.c", "native/udp_flow.c", "native/flow_js.c", "native/tag_mac.c"],
          "cflags": ["-O2", "-Wall", "-Wextra", "-Wno-unused-parameter", "-std=gnu11"],
          "defines": ["NAPI_VERSION=8"]
        }, {
          "type": "none"
        }]
      ]
    }
  ]
}
