import NIOCore

/// The mock's SSE frames, encoded once: a stream is a sequence of writes of these shared
/// buffers (a `ByteBuffer` copy shares its storage), so streaming costs no JSON encoding.
struct MockChunks: Sendable {
    /// `data: {...delta: {role: assistant, content: ""}}` — carries no content.
    let role: ByteBuffer
    /// `data: {...delta: {content: " tok"}}` — one content chunk (the same text each time).
    let content: ByteBuffer
    /// `data: {...delta: {}, finish_reason: "stop"}`.
    let finish: ByteBuffer
    /// `data: [DONE]`.
    let done: ByteBuffer
    private let prefix: String

    init(model: String = "bench-mock", created: Int = 1_700_000_000) {
        prefix = #"{"id":"chatcmpl-bench","object":"chat.completion.chunk","created":\#(created),"model":"\#(model)","choices":["#
        role = Self.frame(prefix + #"{"index":0,"delta":{"role":"assistant","content":""},"finish_reason":null}]}"#)
        content = Self.frame(prefix + #"{"index":0,"delta":{"content":" tok"},"finish_reason":null}]}"#)
        finish = Self.frame(prefix + #"{"index":0,"delta":{},"finish_reason":"stop"}]}"#)
        done = ByteBuffer(string: "data: [DONE]\n\n")
    }

    /// The usage chunk: empty `choices`, then the token counts (encoded per request: it holds them).
    func usage(prompt: Int, completion: Int) -> ByteBuffer {
        Self.frame(prefix + #"],"usage":{"prompt_tokens":\#(prompt),"completion_tokens":\#(completion),"total_tokens":\#(prompt + completion)}}"#)
    }

    private static func frame(_ json: String) -> ByteBuffer {
        ByteBuffer(string: "data: " + json + "\n\n")
    }
}
