import Foundation
import HTTPTypes
import Hummingbird
import NIOCore
import PaliadinCore

/// An error answered as `{"error": "..."}` with its status, as the contract wants.
public struct APIError: HTTPResponseError {
    public let status: HTTPResponse.Status
    public let message: String
    public var headers: HTTPFields = [:]

    public init(_ status: HTTPResponse.Status, _ message: String, headers: HTTPFields = [:]) {
        self.status = status
        self.message = message
        self.headers = headers
    }

    public func response(from request: Request, context: some RequestContext) throws -> Response {
        var headers = self.headers
        headers[.contentType] = "application/json; charset=utf-8"
        let body = PayloadCoding.encode(["error": message])
        return Response(status: status, headers: headers, body: .init(byteBuffer: ByteBuffer(string: body)))
    }

    static let invalidJSON = APIError(.badRequest, "invalid JSON")
    static let notFound = APIError(.notFound, "not found")
    static let invalidTurnID = APIError(.badRequest, "invalid turn_id")
}

