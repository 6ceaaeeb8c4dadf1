using Microsoft.Extensions.Logging.Abstractions;
using Resilient.WebSockets.Connection;
using Resilient.WebSockets.Internal;
using Resilient.WebSockets.Testing;

namespace Resilient.WebSockets.Tests.Connection;

public class ConnectionStateMachineTests
{
    private readonly List<ConnectionStateChange> _changes = [];
    private readonly ClientEvents _events = new(ex => throw ex);

    private ConnectionStateMachine CreateSut()
    {
        var sut = new ConnectionStateMachine(NullLogger.Instance, "test", _events);
        _events.StateChanges.Subscribe(new Recorder<ConnectionStateChange>(_changes.Add));
        return sut;
    }

    private Task DeliveredAsync() => _events.Pump.WhenDelivered().WaitAsync(ClientProbe.DefaultTimeout);

    [Fact]
    public async Task TryMoveTo_PublishesEachMoveOnceInOrder()
    {
        var sut = CreateSut();

        Assert.True(sut.TryMoveTo(ConnectionState.Connecting));
        Assert.True(sut.TryMoveTo(ConnectionState.Connecting));
        Assert.True(sut.TryMoveTo(ConnectionState.Connected));
        Assert.True(sut.TryMoveTo(ConnectionState.Reconnecting, DisconnectReason.ConnectionLost));
        await DeliveredAsync();

        Assert.Equal(
            [ConnectionState.NotStarted, ConnectionState.Connecting, ConnectionState.Connected, ConnectionState.Reconnecting],
            _changes.Select(c => c.Current));
        Assert.Equal(new ConnectionStateChange(ConnectionState.Connected, ConnectionState.Reconnecting, DisconnectReason.ConnectionLost, null), _changes[^1]);
    }

    [Fact]
    public async Task TryMoveTo_AnObserverMovesTheStateAgain_EveryObserverSeesEveryMoveOnceInOrder()
    {
        var sut = CreateSut();
        var second = new List<ConnectionState>();
        using var mover = _events.StateChanges.Subscribe(new Recorder<ConnectionStateChange>(change =>
        {
            if (change.Current == ConnectionState.Connecting)
            {
                sut.TryMoveTo(ConnectionState.Stopping, DisconnectReason.Stopped);
            }
        }));
        using var watcher = _events.StateChanges.Subscribe(new Recorder<ConnectionStateChange>(change => second.Add(change.Current)));

        sut.TryMoveTo(ConnectionState.Connecting);
        await DeliveredAsync();

        // The observer's move comes after the one it observed, for everybody (a publication that re-entered itself
        // would show the second observer Stopping before Connecting).
        ConnectionState[] expected = [ConnectionState.NotStarted, ConnectionState.Connecting, ConnectionState.Stopping];
        Assert.Equal(expected, _changes.Select(c => c.Current));
        Assert.Equal(expected, second);
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
