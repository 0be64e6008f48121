using IotPki.Server.Ca;
using IotPki.Server.Cluster;
using IotPki.Server.Http;
using IotPki.Server.Operators;
using MQTTnet.AspNetCore;
using MQTTnet.Server;
using Microsoft.AspNetCore.Server.Kestrel.Core;

namespace IotPki.Server.Broker;

/// <summary>The MQTT broker: MQTTnet on a Kestrel listener, so the TLS handshake (with our own chain policy) and the
/// client-certificate decision happen before any MQTT byte is read.</summary>
public static class BrokerFeature
{
    /// <summary>The packet write buffer an idle connection holds.</summary>
    private const int WriterBufferBytes = 1024;

    public static WebApplicationBuilder AddBroker(this WebApplicationBuilder builder)
    {
        builder.Services.AddOptions<BrokerOptions>().BindConfiguration(BrokerOptions.Section).ValidateDataAnnotations().ValidateOnStart();
        var options = builder.Configuration.GetSection(BrokerOptions.Section).Get<BrokerOptions>() ?? new BrokerOptions();
        builder.Services.AddSingleton<BrokerMetrics>();
        builder.Services.AddSingleton<RevokedSet>();
        builder.Services.AddSingleton<BrokerSessions>();
        builder.Services.AddSingleton<ClientCertificateGate>();
        builder.Services.AddSingleton<ConnectionValidator>();
        builder.Services.AddSingleton<TopicGuard>();
        builder.Services.AddSingleton(sp => new SubscriberBackPressure(
            options.MaxPendingMessagesPerClient, options.StalledSubscriberAfter, sp.GetRequiredService<TimeProvider>(),
            sp.GetRequiredService<ILogger<SubscriberBackPressure>>()));
        builder.Services.AddSingleton<ServiceListeners>();
        builder.Services.AddSingleton<BrokerAudit>();
        builder.Services.AddHostedService(sp => sp.GetRequiredService<BrokerAudit>());
        builder.Services.AddSingleton<Presence>();
        builder.Services.AddHostedService(sp => sp.GetRequiredService<Presence>());
        builder.Services.AddSingleton<IClusterNoticeHandler, RevocationNoticeHandler>();
        builder.Services.AddSingleton<IClusterNoticeHandler, DeviceCommandRelay>();
        var server = new MqttServerOptionsBuilder()
            .WithoutDefaultEndpoint()
            .WithMaxPendingMessagesPerClient(options.MaxPendingMessagesPerClient)
            .WithKeepAlive()
            .Build();
        // Each connection keeps its packet write buffer at this size between packets (MQTTnet's default is 8 KiB, the
        // largest share of an idle session's memory). What the broker writes to a device is small (CONNACK, SUBACK,
        // a renew command, PINGRESP); a larger packet grows the buffer for as long as it is needed.
        server.WriterBufferSize = WriterBufferBytes;
        builder.Services.AddHostedMqttServer(server);
        builder.Services.AddMqttConnectionHandler();
        builder.Services.AddConnections();
        return builder;
    }

    public static ListenOptions ListenMqtt(this KestrelServerOptions kestrel, BrokerOptions options, PkiState pki)
    {
        ListenOptions? created = null;
        kestrel.Listen(TlsListener.ParseAddress(options.BindAddress), options.Port, listen =>
        {
            created = listen;
            var gate = kestrel.ApplicationServices.GetRequiredService<ClientCertificateGate>();
            listen.UseConnectAdmission(options, kestrel.ApplicationServices.GetRequiredService<BrokerAudit>(), kestrel.ApplicationServices.GetRequiredService<TimeProvider>());
            listen.Use(next => connection =>
            {
                ClientCertificateGate.Remote.Value = connection.RemoteEndPoint;
                return next(connection);
            });
            listen.UseClientCertificateTls(pki, (_, certificate, _, errors) => gate.Accept(certificate, errors));
            listen.EndHandshake();
            listen.UseMqttPacketSizeLimit(options.MaxPacketBytes, kestrel.ApplicationServices.GetRequiredService<BrokerAudit>(),
                kestrel.ApplicationServices.GetRequiredService<BrokerMetrics>(), pki);
            listen.UseMqtt();
        });
        return created!;
    }

    /// <summary>The broker's counters for operators: <c>GET /api/v1/broker</c>.</summary>
    public static void MapBrokerApi(this RouteGroupBuilder api) =>
        api.MapGet("/broker", (BrokerMetrics metrics) => TypedResults.Ok(metrics.Snapshot()))
            .WithTags("Broker").RequireAuthorization(OperatorRole.CanRead);

    public static WebApplication MapBroker(this WebApplication app)
    {
        var validator = app.Services.GetRequiredService<ConnectionValidator>();
        var guard = app.Services.GetRequiredService<TopicGuard>();
        var metrics = app.Services.GetRequiredService<BrokerMetrics>();
        var presence = app.Services.GetRequiredService<Presence>();
        var sessions = app.Services.GetRequiredService<BrokerSessions>();
        var listeners = app.Services.GetRequiredService<ServiceListeners>();
        var backPressure = app.Services.GetRequiredService<SubscriberBackPressure>();
        app.UseMqttServer(server =>
        {
            sessions.Attach(server);
            server.ValidatingConnectionAsync += validator.ValidateAsync;
            server.InterceptingPublishAsync += guard.InterceptPublishAsync;
            server.InterceptingSubscriptionAsync += guard.InterceptSubscriptionAsync;
            server.ClientConnectedAsync += args =>
            {
                metrics.Connected();
                if (args.SessionItems[BrokerIdentity.SessionKey] is BrokerIdentity who)
                {
                    sessions.Add(who.Serial, args.ClientId);
                    if (who.Device is { } device)
                    {
                        presence.Connected(device, who.Serial);
                    }
                }
                return Task.CompletedTask;
            };
            server.ClientDisconnectedAsync += args =>
            {
                backPressure.Gone(args.ClientId);
                if (args.DisconnectType != MqttClientDisconnectType.Clean || args.SessionItems[BrokerIdentity.SessionKey] is not null)
                {
                    metrics.Disconnected();
                }
                if (args.SessionItems[BrokerIdentity.SessionKey] is BrokerIdentity who)
                {
                    listeners.Disconnected(who);
                    sessions.Remove(who.Serial, args.ClientId);
                    if (who.Device is { } device)
                    {
                        presence.Disconnected(device);
                    }
                }
                return Task.CompletedTask;
            };
            server.ClientUnsubscribedTopicAsync += args =>
            {
                if (args.SessionItems[BrokerIdentity.SessionKey] is BrokerIdentity { IsDevice: false } service)
                {
                    listeners.Unsubscribed(service);
                }
                return Task.CompletedTask;
            };
            server.ClientSubscribedTopicAsync += args =>
            {
                if (args.SessionItems[BrokerIdentity.SessionKey] is BrokerIdentity { Device: { } device } who
                    && args.TopicFilter.Topic.StartsWith($"devices/{device.Value}/commands/", StringComparison.Ordinal))
                {
                    presence.ListeningForCommands(device, who.Serial);
                }
                return Task.CompletedTask;
            };
            server.InterceptingClientEnqueueAsync += args =>
            {
                metrics.MessageOut();
                return backPressure.WaitForRoomAsync(args.ReceiverClientId, CancellationToken.None);
            };
            server.ApplicationMessageEnqueuedOrDroppedAsync += args =>
            {
                if (!args.IsDropped)
                {
                    backPressure.Queued(args.ReceiverClientId);
                }
                return Task.CompletedTask;
            };
            server.QueuedApplicationMessageOverwrittenAsync += args =>
            {
                metrics.MessageDropped();
                backPressure.Left(args.ReceiverClientId, written: false);
                return Task.CompletedTask;
            };
            server.InterceptingOutboundPacketAsync += args =>
            {
                if (args.Packet is MQTTnet.Packets.MqttPublishPacket)
                {
                    backPressure.Left(args.ClientId, written: true);
                }
                return Task.CompletedTask;
            };
        });
        return app;
    }
}
