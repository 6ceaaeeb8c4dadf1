using Microsoft.Extensions.Logging.Abstractions;
using Resilient.WebSockets.Connection;
using Resilient.WebSockets.Testing;

namespace Resilient.WebSockets.Tests.Connection;

public class ConnectionStateMachineTests
{
    private readonly List<ConnectionStateChange> _changes = [];

    private ConnectionStateMachine CreateSut()
    {
        var sut = new ConnectionStateMachine(NullLogger.Instance, "test", ex => throw ex);
        sut.Changes.Subscribe(new Recorder<ConnectionStateChange>(_changes.Add));
        return sut;
    }

    [Fact]
    public void TryMoveTo_PublishesEachMoveOnceInOrder()
    {
        var sut = CreateSut();

        Assert.True(sut.TryMoveTo(ConnectionState.Connecting));
        Assert.True(sut.TryMoveTo(ConnectionState.Connecting));
        Assert.True(sut.TryMoveTo(ConnectionState.Connected));
        Assert.True(sut.TryMoveTo(ConnectionState.Reconnecting, DisconnectReason.ConnectionLost));

        Assert.Equal(
            [ConnectionState.NotStarted, ConnectionState.Connecting, ConnectionState.Connected, ConnectionState.Reconnecting],
            _changes.Select(c => c.Current));
        Assert.Equal(new ConnectionStateChange(ConnectionState.Connected, ConnectionState.Reconnecting, DisconnectReason.ConnectionLost, null), _changes[^1]);
    }

    [Fact]
    public void TryMoveTo_OnceStopping_OnlyStoppedMayFollow()
    {
        var sut = CreateSut();
        sut.TryMoveTo(ConnectionState.Connecting);
        sut.TryMoveTo(ConnectionState.Stopping, DisconnectReason.Stopped);

        Assert.False(sut.TryMoveTo(ConnectionState.Connected));
        Assert.False(sut.TryMoveTo(ConnectionState.Reconnecting));
        Assert.True(sut.TryMoveTo(ConnectionState.Stopped));
        Assert.Equal(ConnectionState.Stopped, sut.Current);
    }

    [Fact]
    public void TryMoveTo_FromStoppedOrNotStarted_OnlyAStartMayFollow()
    {
        var sut = CreateSut();

        Assert.False(sut.TryMoveTo(ConnectionState.Connected));
        Assert.False(sut.TryMoveTo(ConnectionState.Stopping));
        Assert.True(sut.TryMoveTo(ConnectionState.Connecting));
    }

    [Fact]
    public void TryMoveTo_WithCondition_MovesOnlyWhenItHolds()
    {
        var sut = CreateSut();
        sut.TryMoveTo(ConnectionState.Connecting);

        Assert.False(sut.TryMoveTo(ConnectionState.Connecting, current => current is ConnectionState.NotStarted or ConnectionState.Stopped));
        Assert.True(sut.TryMoveTo(ConnectionState.Stopping, current => current != ConnectionState.Stopped));
    }
}
