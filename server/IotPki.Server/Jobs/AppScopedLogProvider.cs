using Hangfire.Logging;

namespace IotPki.Server.Jobs;

/// <summary>Hangfire keeps its log provider in a static; several hosts in one process (tests, or a host restarted in
/// place) would log through a disposed factory. This provider tolerates that: once its host's factory is gone, it is
/// silent instead of throwing.</summary>
public sealed class AppScopedLogProvider(ILoggerFactory factory) : ILogProvider
{
    public ILog GetLogger(string name) => new ScopedLog(factory, name);

    private sealed class ScopedLog(ILoggerFactory factory, string name) : ILog
    {
        private ILogger? _logger;

        public bool Log(Hangfire.Logging.LogLevel logLevel, Func<string>? messageFunc, Exception? exception = null)
        {
            try
            {
                _logger ??= factory.CreateLogger(name);
                var level = Map(logLevel);
                if (messageFunc is null)
                {
                    return _logger.IsEnabled(level);
                }
                if (_logger.IsEnabled(level))
                {
                    _logger.Log(level, 0, messageFunc(), exception, static (state, _) => state);
                }
                return true;
            }
            catch (ObjectDisposedException)
            {
                return false;
            }
        }

        private static Microsoft.Extensions.Logging.LogLevel Map(Hangfire.Logging.LogLevel level) => level switch
        {
            Hangfire.Logging.LogLevel.Trace => Microsoft.Extensions.Logging.LogLevel.Trace,
            Hangfire.Logging.LogLevel.Debug => Microsoft.Extensions.Logging.LogLevel.Debug,
            Hangfire.Logging.LogLevel.Info => Microsoft.Extensions.Logging.LogLevel.Information,
            Hangfire.Logging.LogLevel.Warn => Microsoft.Extensions.Logging.LogLevel.Warning,
            Hangfire.Logging.LogLevel.Error => Microsoft.Extensions.Logging.LogLevel.Error,
            _ => Microsoft.Extensions.Logging.LogLevel.Critical,
        };
    }
}
