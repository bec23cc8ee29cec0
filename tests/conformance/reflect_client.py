"""A gRPC client that knows the certequiv API only through server reflection.

No stubs are generated from proto/: the request and response classes are built at run time from
the descriptors the server returns (grpc_reflection's ProtoReflectionDescriptorDatabase feeding a
google.protobuf DescriptorPool), and calls go through channel.unary_unary / stream_stream with those
classes' serializers.
"""

from __future__ import annotations

from typing import Any, Iterable, Iterator

import grpc
from google.protobuf import descriptor_pool, json_format, message_factory
from grpc_reflection.v1alpha import reflection_pb2
from grpc_reflection.v1alpha.proto_reflection_descriptor_database import (
    ProtoReflectionDescriptorDatabase,
)

REFLECTION_V1_METHOD = "/grpc.reflection.v1.ServerReflection/ServerReflectionInfo"


class _V1ReflectionStub:
    """The v1alpha stub's shape, speaking grpc.reflection.v1 (same messages, other package)."""

    def __init__(self, channel: grpc.Channel):
        self.ServerReflectionInfo = channel.stream_stream(
            REFLECTION_V1_METHOD,
            request_serializer=reflection_pb2.ServerReflectionRequest.SerializeToString,
            response_deserializer=reflection_pb2.ServerReflectionResponse.FromString,
        )


class ReflectionClient:
    def __init__(self, channel: grpc.Channel, reflection_version: str = "v1alpha"):
        self.channel = channel
        self.db = ProtoReflectionDescriptorDatabase(channel)
        if reflection_version == "v1":
            # grpcio-reflection ships only a v1alpha client; the v1 wire format is identical.
            self.db._stub = _V1ReflectionStub(channel)
        elif reflection_version != "v1alpha":
            raise ValueError(reflection_version)
        self.pool = descriptor_pool.DescriptorPool(self.db)

    def services(self) -> list[str]:
        return list(self.db.get_services())

    def message_class(self, full_name: str):
        return message_factory.GetMessageClass(self.pool.FindMessageTypeByName(full_name))

    def method(self, service: str, method: str):
        return self.pool.FindServiceByName(service).methods_by_name[method]

    def _classes(self, service: str, method: str):
        m = self.method(service, method)
        return (
            m,
            message_factory.GetMessageClass(m.input_type),
            message_factory.GetMessageClass(m.output_type),
        )

    def request(self, service: str, method: str, fields: dict[str, Any] | None = None):
        """A request message of the method's input type, filled from a JSON-style dict."""
        _, req_cls, _ = self._classes(service, method)
        return json_format.ParseDict(fields or {}, req_cls(), descriptor_pool=self.pool)

    def unary(self, service: str, method: str, fields: dict[str, Any] | None = None,
              timeout: float = 10.0):
        """Calls a unary RPC; returns (response, call). Raises grpc.RpcError (also a grpc.Call)."""
        m, req_cls, resp_cls = self._classes(service, method)
        assert not m.client_streaming and not m.server_streaming, f"{method} is not unary"
        req = json_format.ParseDict(fields or {}, req_cls(), descriptor_pool=self.pool)
        rpc = self.channel.unary_unary(
            f"/{service}/{method}",
            request_serializer=req_cls.SerializeToString,
            response_deserializer=resp_cls.FromString,
        )
        return rpc.with_call(req, timeout=timeout)

    def bidi(self, service: str, method: str, items: Iterable[dict[str, Any]],
             timeout: float = 60.0) -> Iterator:
        """Calls a bidi-streaming RPC with the given items; returns the response iterator."""
        m, req_cls, resp_cls = self._classes(service, method)
        assert m.client_streaming and m.server_streaming, f"{method} is not bidi streaming"
        reqs = (json_format.ParseDict(i, req_cls(), descriptor_pool=self.pool) for i in items)
        rpc = self.channel.stream_stream(
            f"/{service}/{method}",
            request_serializer=req_cls.SerializeToString,
            response_deserializer=resp_cls.FromString,
        )
        return rpc(reqs, timeout=timeout)

    def enum_value(self, enum_full_name: str, value_name: str) -> int:
        return self.pool.FindEnumTypeByName(enum_full_name).values_by_name[value_name].number
