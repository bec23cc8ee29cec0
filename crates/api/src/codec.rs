//! The server's codec: prost's, except that a request that does not decode is the client's
//! error (INVALID_ARGUMENT, saying what is wrong) rather than INTERNAL.
//!
//! tonic's prost codec answers a malformed message with INTERNAL and prost's error text; the
//! server keeps INTERNAL for its own faults, whose detail the client never sees.

use tonic::Status;
use tonic::codec::{BufferSettings, Codec, DecodeBuf, Decoder};
use tonic_prost::{ProstCodec, ProstDecoder, ProstEncoder};

/// [`ProstCodec`] with request decoding errors mapped to INVALID_ARGUMENT.
#[derive(Debug, Clone)]
pub struct ServerCodec<T, U>(ProstCodec<T, U>);

impl<T, U> Default for ServerCodec<T, U> {
    fn default() -> Self {
        ServerCodec(ProstCodec::default())
    }
}

impl<T, U> Codec for ServerCodec<T, U>
where
    T: prost::Message + Send + 'static,
    U: prost::Message + Default + Send + 'static,
{
    type Encode = T;
    type Decode = U;
    type Encoder = ProstEncoder<T>;
    type Decoder = ServerDecoder<U>;

    fn encoder(&mut self) -> Self::Encoder {
        self.0.encoder()
    }

    fn decoder(&mut self) -> Self::Decoder {
        ServerDecoder(self.0.decoder())
    }
}

/// [`ProstDecoder`] with its errors made the client's.
#[derive(Debug)]
pub struct ServerDecoder<U>(ProstDecoder<U>);

impl<U: prost::Message + Default> Decoder for ServerDecoder<U> {
    type Item = U;
    type Error = Status;

    fn decode(&mut self, buf: &mut DecodeBuf<'_>) -> Result<Option<U>, Status> {
        self.0.decode(buf).map_err(|status| {
            Status::invalid_argument(format!(
                "the request message does not decode: {}",
                status.message()
            ))
        })
    }

    fn buffer_settings(&self) -> BufferSettings {
        self.0.buffer_settings()
    }
}
