using System.Buffers;
using System.IO.Pipelines;
using Microsoft.AspNetCore.Connections;
using Microsoft.AspNetCore.Connections.Features;
using Microsoft.AspNetCore.Http.Features;
using IotPki.Server.Ca;
using Microsoft.AspNetCore.Server.Kestrel.Core;

namespace IotPki.Server.Broker;

/// <summary>Enforces <see cref="BrokerOptions.MaxPacketBytes"/> below MQTTnet: the decrypted stream is scanned for MQTT
/// fixed headers as it arrives, and a connection announcing a larger packet (or a malformed length) is closed before
/// the packet is buffered. MQTTnet's server has no maximum packet size of its own.
/// The same scan ends a connection whose peer closed it in the middle of a packet: MQTTnet's reader loop checks for the
/// end of input only when nothing is buffered, so a half packet followed by a close made it read the same bytes again
/// and again, a core at 100 % for that connection until its 100-s timeout.</summary>
public static class MqttPacketSizeLimit
{
    public static ListenOptions UseMqttPacketSizeLimit(this ListenOptions listen, int maxPacketBytes, BrokerAudit audit, BrokerMetrics metrics, PkiState pki)
    {
        listen.Use(next => connection =>
        {
            var transport = connection.Transport;
            var reader = new LimitedReader(transport.Input, maxPacketBytes, size =>
            {
                var certificate = connection.Features.Get<ITlsConnectionFeature>()?.ClientCertificate;
                var who = certificate is null ? null : BrokerIdentity.From(certificate, pki.Issuer.Endpoints.TrustDomain);
                audit.Refused("packet_too_large", who?.ToString() ?? "anonymous", who?.Device,
                    (connection.RemoteEndPoint as System.Net.IPEndPoint)?.Address.ToString(),
                    size < 0 ? "malformed remaining length" : $"{size} bytes, limit {maxPacketBytes}");
                connection.Abort(new ConnectionAbortedException("MQTT packet too large"));
            }, metrics.ClosedMidPacket);
            connection.Transport = new DuplexPipe(reader, transport.Output);
            return next(connection);
        });
        return listen;
    }

    private sealed class DuplexPipe(PipeReader input, PipeWriter output) : IDuplexPipe
    {
        public PipeReader Input { get; } = input;
        public PipeWriter Output { get; } = output;
    }

    internal sealed class LimitedReader(PipeReader inner, int max, Action<long> exceeded, Action closedMidPacket) : PipeReader
    {
        private ReadOnlySequence<byte> _buffer;
        private long _scanned;
        private long _packetStart; // where the packet being scanned begins, from the buffer's start
        private int _state; // 0 fixed-header byte, 1 remaining length, 2 body
        private long _length;
        private int _lengthBytes;
        private long _bodyLeft;
        private bool _failed;

        public override async ValueTask<ReadResult> ReadAsync(CancellationToken cancellationToken = default) =>
            Inspect(await inner.ReadAsync(cancellationToken));

        public override bool TryRead(out ReadResult result)
        {
            if (!inner.TryRead(out result))
            {
                return false;
            }
            result = Inspect(result);
            return true;
        }

        public override void AdvanceTo(SequencePosition consumed) => AdvanceTo(consumed, consumed);

        public override void AdvanceTo(SequencePosition consumed, SequencePosition examined)
        {
            var released = _buffer.Slice(_buffer.Start, consumed).Length;
            _scanned -= released;
            _packetStart -= released;
            _buffer = default;
            inner.AdvanceTo(consumed, examined);
        }

        public override void CancelPendingRead() => inner.CancelPendingRead();

        public override void Complete(Exception? exception = null) => inner.Complete(exception);

        private ReadResult Inspect(ReadResult result)
        {
            _buffer = result.Buffer;
            if (_failed)
            {
                throw new ConnectionAbortedException("MQTT packet too large");
            }
            var unscanned = result.Buffer.Slice(_scanned);
            var offset = _scanned;
            foreach (var memory in unscanned)
            {
                Scan(memory.Span, offset);
                offset += memory.Length;
                if (_failed)
                {
                    throw new ConnectionAbortedException("MQTT packet too large");
                }
            }
            _scanned = result.Buffer.Length;
            if (result.IsCompleted && _state != 0 && _packetStart <= 0)
            {
                // Every whole packet before it has been read: the rest of this one will never come.
                closedMidPacket();
                throw new ConnectionAbortedException("The peer closed the connection in the middle of an MQTT packet");
            }
            return result;
        }

        private void Scan(ReadOnlySpan<byte> span, long offset)
        {
            var i = 0;
            while (i < span.Length)
            {
                switch (_state)
                {
                    case 0:
                        _packetStart = offset + i;
                        i++;
                        _state = 1;
                        _length = 0;
                        _lengthBytes = 0;
                        break;
                    case 1:
                        var b = span[i++];
                        _length |= (long)(b & 0x7F) << (7 * _lengthBytes);
                        _lengthBytes++;
                        if ((b & 0x80) != 0)
                        {
                            if (_lengthBytes == 4)
                            {
                                Fail(-1);
                                return;
                            }
                            break;
                        }
                        if (1 + _lengthBytes + _length > max)
                        {
                            Fail(1 + _lengthBytes + _length);
                            return;
                        }
                        _bodyLeft = _length;
                        _state = _bodyLeft == 0 ? 0 : 2;
                        break;
                    default:
                        var skip = (int)Math.Min(_bodyLeft, span.Length - i);
                        i += skip;
                        _bodyLeft -= skip;
                        if (_bodyLeft == 0)
                        {
                            _state = 0;
                        }
                        break;
                }
            }
        }

        private void Fail(long size)
        {
            _failed = true;
            exceeded(size);
        }
    }
}
