using System.Diagnostics.Metrics;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Resilient.WebSockets.Extensions.Hosting;

/// <summary>A named client being registered: chain <see cref="ReconnectingWebSocketBuilderExtensions.BindConfiguration"/>,
/// <see cref="ReconnectingWebSocketBuilderExtensions.Configure"/> and <see cref="ReconnectingWebSocketBuilderExtensions.StartWithHost"/> on it.</summary>
public interface IReconnectingWebSocketBuilder
{
    /// <summary>The client's name: the key of its options, of its keyed service, and <see cref="ReconnectingWebSocketOptions.Name"/> unless that is set.</summary>
    string Name { get; }

    /// <summary>The services the client is registered in.</summary>
    IServiceCollection Services { get; }
}

/// <summary>Hands out the named clients registered with <see cref="ReconnectingWebSocketServiceCollectionExtensions.AddReconnectingWebSocket"/>:
/// one client per name, created on first use and disposed with the container.</summary>
public interface IReconnectingWebSocketFactory
{
    /// <summary>The client registered as <paramref name="name"/>.</summary>
    /// <exception cref="InvalidOperationException">No client of that name was registered (the message lists those that were).</exception>
    /// <exception cref="ArgumentException">Its options are invalid (the message names the client and the setting).</exception>
    ReconnectingWebSocket GetClient(string name);
}

/// <summary>Registers <see cref="ReconnectingWebSocket"/> clients with dependency injection.</summary>
public static class ReconnectingWebSocketServiceCollectionExtensions
{
    /// <summary>
    /// Registers a client named <paramref name="name"/>: from <see cref="IReconnectingWebSocketFactory.GetClient"/> and as a
    /// keyed singleton (<c>[FromKeyedServices("name")]</c>). The container's <see cref="ILoggerFactory"/>,
    /// <see cref="IMeterFactory"/> and <see cref="TimeProvider"/> are used when registered (a setting made in the options
    /// wins). Its options are validated when the host starts, so a bad setting stops the host with the constructor's
    /// message and the client's name.
    /// </summary>
    /// <param name="services">The services.</param>
    /// <param name="name">The client's name (not empty; unique among the clients registered).</param>
    /// <param name="configure">Sets the options, or null (then <see cref="ReconnectingWebSocketBuilderExtensions.BindConfiguration"/> or
    /// <see cref="ReconnectingWebSocketBuilderExtensions.Configure"/> must).</param>
    /// <returns>A builder to configure the client further.</returns>
    /// <exception cref="ArgumentException"><paramref name="name"/> is empty, or already registered.</exception>
    public static IReconnectingWebSocketBuilder AddReconnectingWebSocket(this IServiceCollection services, string name, Action<ReconnectingWebSocketOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(services);
        ArgumentException.ThrowIfNullOrWhiteSpace(name);
        var names = RegisteredNames(services);
        if (!names.Add(name))
        {
            throw new ArgumentException($"A ReconnectingWebSocket named '{name}' is already registered; give each client its own name.", nameof(name));
        }

        var options = services.AddOptions<ReconnectingWebSocketOptions>(name);
        if (configure is not null)
        {
            options.Configure(configure);
        }

        services.AddSingleton<IValidateOptions<ReconnectingWebSocketOptions>>(new OptionsValidator(name));
        options.ValidateOnStart();
        services.TryAddSingleton<IReconnectingWebSocketFactory, ReconnectingWebSocketFactory>();
        services.AddKeyedSingleton(name, static (provider, key) => provider.GetRequiredService<IReconnectingWebSocketFactory>().GetClient((string)key!));
        return new Builder(name, services);
    }

    private static HashSet<string> RegisteredNames(IServiceCollection services)
    {
        foreach (var descriptor in services)
        {
            if (descriptor.ServiceType == typeof(ClientNames) && descriptor.ImplementationInstance is ClientNames existing)
            {
                return existing.Names;
            }
        }

        var names = new ClientNames();
        services.AddSingleton(names);
        return names.Names;
    }

    /// <summary>The constructor's checks, with the client's name in front of its message.</summary>
    internal static bool ValidateOptions(string name, ReconnectingWebSocketOptions options, out string? failure)
    {
        try
        {
            options.Validate();
            failure = null;
            return true;
        }
        catch (ArgumentException ex)
        {
            failure = $"ReconnectingWebSocket '{name}': {ex.Message}";
            return false;
        }
    }

    private sealed class Builder(string name, IServiceCollection services) : IReconnectingWebSocketBuilder
    {
        public string Name { get; } = name;

        public IServiceCollection Services { get; } = services;
    }

    /// <summary>One client's validation at start-up (<c>ValidateOnStart</c>): the message the constructor would throw.</summary>
    private sealed class OptionsValidator(string name) : IValidateOptions<ReconnectingWebSocketOptions>
    {
        public ValidateOptionsResult Validate(string? optionsName, ReconnectingWebSocketOptions options) =>
            optionsName != name ? ValidateOptionsResult.Skip
            : ValidateOptions(name, options, out var failure) ? ValidateOptionsResult.Success
            : ValidateOptionsResult.Fail(failure!);
    }
}

/// <summary>The names of the clients registered in one service collection.</summary>
internal sealed class ClientNames
{
    public HashSet<string> Names { get; } = new(StringComparer.Ordinal);
}

/// <summary>Configures a client being registered.</summary>
public static class ReconnectingWebSocketBuilderExtensions
{
    /// <summary>Binds the client's options from the configuration section at <paramref name="sectionPath"/> (every scalar
    /// setting, nested ones too: <c>Uri</c>, <c>KeepAliveInterval</c>, <c>Reconnect:MaxDelay</c>, <c>SendQueue:Capacity</c>…),
    /// through the configuration binder's source generator (trim- and AOT-safe). Delegates and services cannot come from
    /// configuration: set those with <see cref="Configure"/>.</summary>
    /// <param name="builder">The client's builder.</param>
    /// <param name="sectionPath">The section, for example <c>"Feeds:Prices"</c>.</param>
    /// <returns>The builder.</returns>
    public static IReconnectingWebSocketBuilder BindConfiguration(this IReconnectingWebSocketBuilder builder, string sectionPath)
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentException.ThrowIfNullOrWhiteSpace(sectionPath);
        builder.Services.AddOptions<ReconnectingWebSocketOptions>(builder.Name)
            .Configure<IConfiguration>((options, configuration) => configuration.GetSection(sectionPath).Bind(options));
        return builder;
    }

    /// <summary>Configures the client's options with services from the container (a token provider for
    /// <see cref="ReconnectingWebSocketOptions.ConfigureWebSocket"/>, an <see cref="ReconnectingWebSocketOptions.OnConnected"/> that
    /// subscribes through a registered service…). Runs after <see cref="BindConfiguration"/> when chained after it.</summary>
    /// <param name="builder">The client's builder.</param>
    /// <param name="configure">Sets the options.</param>
    /// <returns>The builder.</returns>
    public static IReconnectingWebSocketBuilder Configure(this IReconnectingWebSocketBuilder builder, Action<ReconnectingWebSocketOptions, IServiceProvider> configure)
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentNullException.ThrowIfNull(configure);
        builder.Services.AddOptions<ReconnectingWebSocketOptions>(builder.Name).Configure<IServiceProvider>(configure);
        return builder;
    }

    /// <summary>
    /// Starts the client with the host and stops it with the host: on shutdown it flushes what is queued and sends a close
    /// frame, within the host's shutdown timeout (then the client is disposed with the container).
    /// </summary>
    /// <param name="builder">The client's builder.</param>
    /// <param name="waitForConnection">True: the host's start waits for the first connection (and fails if the client gives
    /// up, for example on a refused certificate); false (the default): the host starts at once and the client connects in
    /// the background, retrying under its policy.</param>
    /// <returns>The builder.</returns>
    public static IReconnectingWebSocketBuilder StartWithHost(this IReconnectingWebSocketBuilder builder, bool waitForConnection = false)
    {
        ArgumentNullException.ThrowIfNull(builder);
        string name = builder.Name;
        builder.Services.AddSingleton<IHostedService>(provider => new ReconnectingWebSocketHostedService(
            provider.GetRequiredService<IReconnectingWebSocketFactory>(), name, waitForConnection,
            provider.GetService<ILoggerFactory>()?.CreateLogger<ReconnectingWebSocketHostedService>()));
        return builder;
    }
}
