/// The terminal client's library: talks to a Paliadin server over its HTTP API.
public enum PaliadinClientLibrary {}
